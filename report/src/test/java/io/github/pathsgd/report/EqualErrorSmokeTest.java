package io.github.pathsgd.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.experiments.sweep.SweepRunner;
import io.github.pathsgd.experiments.sweep.SweepSpec;
import io.github.pathsgd.report.ResultSet.Run;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The equal-training-error experiment (issue 26 item 5) at smoke scale, end to end: the preset trains every final run
 * to its training criterion (zero training error or the loss bound) or the epoch cap, records the epoch, and the
 * report compares test errors there, paired by seed, saying which runs did not reach the criterion.
 */
class EqualErrorSmokeTest {
  @Test
  void everyFinalRunStopsAtTheCriterionOrTheCapAndTheVerdictSaysWhich(@TempDir Path tmp) throws Exception {
    SweepSpec spec = SweepSpec.load("equal-error");
    Path out = tmp.resolve("eq");
    new SweepRunner(spec, "smoke", 2, SweepRunner.Options.of(out).withLog(new PrintStream(OutputStream
        .nullOutputStream()))).run();
    ResultSet rs = ResultSet.read(out);
    List<Run> fin = rs.phase("final");
    // Path-SGD from both starts, 2 seeds (SGD from the unbalanced start may diverge at every alpha of the smoke grid,
    // and then has no final run)
    assertThat(fin.stream().filter(r -> r.cfg("optimizer").equals("path-sgd"))).hasSize(4);
    for (Run r : fin) {
      assertThat(Claims.hasStopCriterion(r)).isTrue();
      int epochs = r.line().path("summary").path("epochs_completed").asInt();
      int cap = r.config().path("epochs").asInt();
      assertThat(cap).isEqualTo(40);
      // a run that met the criterion stopped at that epoch; one that did not ran to the cap (or diverged)
      if (Claims.reached(r)) {
        assertThat(epochs).isLessThanOrEqualTo(cap);
        assertThat(r.summary("final", "train_error") == 0 || Claims.finalLoss(r) < 0.01).isTrue();
        // ... and not earlier: the epoch before did not meet it
        double before = r.curve("train/loss").get(epochs - 1);
        double errBefore = r.curve("train/error").get(epochs - 1);
        assertThat(before >= 0.01 && errBefore > 0).as("run %s met the criterion before epoch %d", r.id(), epochs)
            .isTrue();
      } else if (!Claims.diverged(r)) {
        assertThat(epochs).isEqualTo(cap);
      }
    }
    List<Claims.Verdict> vs = Claims.verdicts(rs);
    String row = "test error at equal training error: Path-SGD's below SGD's, balanced init, no dropout";
    assertThat(vs).filteredOn(v -> v.claim().equals(row)).singleElement().satisfies(v -> {
      assertThat(v.numbers()).contains("epochs trained (by seed; the criterion or the cap): Path-SGD ");
      boolean allReached = fin.stream().filter(r -> r.cfg("init").equals("balanced")).allMatch(Claims::reached);
      if (!allReached) {
        assertThat(v.verdict()).isEqualTo(Claims.CANNOT_TELL);
      }
    });
    // at smoke scale (100 images, 2x64) some runs reach the criterion before the cap, so the stop is exercised
    assertThat(fin).anyMatch(r -> Claims.reached(r)
        && r.line().path("summary").path("epochs_completed").asInt() < 40);
    // trained to a criterion, the final training loss is no claim: no "final training loss below" rows
    assertThat(vs).noneMatch(v -> v.claim().startsWith("Path-SGD's final training loss"));
  }
}
