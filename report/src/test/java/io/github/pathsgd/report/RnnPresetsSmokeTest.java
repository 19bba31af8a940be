package io.github.pathsgd.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.experiments.sweep.SweepRunner;
import io.github.pathsgd.experiments.sweep.SweepSpec;
import io.github.pathsgd.report.ResultSet.Run;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 25's presets rnn-adding and rnn-seqmnist at smoke scale, end to end: the five arms each get a step size chosen
 * on validation and 2 seeds of final runs, the report's rnn verdict rows are there for the data set (one per baseline
 * and κ^(2)'s), and the report (figure rnn) is written.
 */
class RnnPresetsSmokeTest {
  static final Set<String> ARMS = Set.of("SGD", "IRNN", "AdaGrad", "Path-SGD κ^(1)", "Path-SGD κ^(1)+κ^(2)");

  @Test
  void addingProblem(@TempDir Path tmp) throws Exception {
    check(tmp, "rnn-adding", "adding-10", "Path-SGD κ^(1) solves the adding problem and ");
  }

  @Test
  void sequentialMnist(@TempDir Path tmp) throws Exception {
    check(tmp, "rnn-seqmnist", "seqmnist-sample-14", "Path-SGD κ^(1)'s test error below ");
  }

  static void check(Path tmp, String preset, String dataset, String rowStart) throws Exception {
    Path out = tmp.resolve(preset);
    new SweepRunner(SweepSpec.load(preset), "smoke", 2, SweepRunner.Options.of(out).withLog(new PrintStream(
        OutputStream.nullOutputStream()))).run();
    ResultSet rs = ResultSet.read(out);
    assertThat(rs.phase("select").stream().map(Claims::arm).collect(Collectors.toSet())).isEqualTo(ARMS);
    List<Run> fin = rs.phase("final");
    assertThat(fin.stream().map(Claims::arm).collect(Collectors.toSet())).isEqualTo(ARMS);
    assertThat(fin).hasSize(10).allMatch(r -> r.cfg("dataset").equals(dataset));
    // SGD and AdaGrad clip at norm 1, Path-SGD does not; the kappa2 arm's layers carry it
    for (Run r : fin) {
      boolean clip = !r.cfg("optimizer").equals("path-sgd");
      assertThat(r.config().path("clip_norm").isNumber()).as(r.id() + " " + Claims.arm(r)).isEqualTo(clip);
      assertThat(r.curve("test/loss")).as("learning curve").isNotEmpty();
    }
    List<Claims.Verdict> vs = Claims.verdicts(rs);
    for (String base : List.of("SGD", "IRNN", "AdaGrad")) {
      assertThat(vs).filteredOn(v -> v.claim().startsWith(rowStart + base)).hasSize(1);
    }
    assertThat(vs).filteredOn(v -> v.claim().startsWith("κ^(2) changes little")).hasSize(1);
    Report.write(out);
    assertThat(Files.readString(out.resolve("report.md"))).contains("κ^(2) changes little");
  }
}
