package io.github.pathsgd.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.rundir.MetricsCsv;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rnn presets' verdicts (figure rnn) computed from result files written by the test, then the data changed and
 * each verdict seen to flip: a baseline that solves the adding problem too, a Path-SGD seed that does not, a diverged
 * baseline, κ^(2) moving the result beyond the seed spread, sequential-MNIST test errors swapped, unequal epochs.
 */
class RnnVerdictTest {
  @TempDir Path tmp;

  /** A final run: arm, seed, final value (relative test MSE or test error), epochs, status. */
  record R(String dataset, String optimizer, String init, boolean kappa2, int seed, double value, int epochs,
      String status) {
    R(String dataset, String optimizer, String init, boolean kappa2, int seed, double value) {
      this(dataset, optimizer, init, kappa2, seed, value, 3, "completed");
    }
  }

  static final double BASE = 0.16;

  int dirs;

  Path write(List<R> runs) throws Exception {
    Path dir = tmp.resolve("s" + dirs++);
    Files.createDirectories(dir);
    ObjectNode sweep = Configs.json().createObjectNode();
    sweep.put("experiment", "rnn").put("figure", "rnn").put("scale", "medium").put("seeds", 3);
    Files.writeString(dir.resolve("sweep.json"), sweep.toString());
    StringBuilder jsonl = new StringBuilder();
    StringBuilder csv = new StringBuilder(MetricsCsv.HEADER).append('\n');
    int i = 0;
    for (R r : runs) {
      String id = String.format(Locale.ROOT, "%012x", 0xbeef00 + i++);
      boolean reg = r.dataset().startsWith("adding");
      ObjectNode line = Configs.json().createObjectNode();
      line.put("run_id", id).put("phase", "final").put("status", r.status());
      line.putObject("config").put("dataset", r.dataset()).put("optimizer", r.optimizer()).put("init", r.init())
          .put("layers", r.kappa2() ? "rnn(100,kappa2)" : "rnn(100)").put("dropout", 0.0).put("seed", r.seed())
          .put("threads", 1);
      ObjectNode s = line.putObject("summary");
      s.put("epochs_completed", r.epochs());
      double testLoss = reg ? r.value() * BASE : 0.5;
      double testError = reg ? 0.9 : r.value();
      s.putObject("final").put("test_loss", testLoss).put("test_error", testError).put("train_error", 0.1);
      if (reg) {
        s.putObject("regression").putObject("baseline_mse").put("test", BASE);
      }
      jsonl.append(line).append('\n');
      for (int e = 0; e <= r.epochs(); e++) {
        double f = e == r.epochs() ? 1 : 2 - e / (double) r.epochs(); // falls to the final value
        csv.append(id).append(',').append(e).append(",test,loss,").append(MetricsCsv.format(testLoss * f))
            .append('\n');
        csv.append(id).append(',').append(e).append(",test,error,").append(MetricsCsv.format(Math.min(1,
            testError * f))).append('\n');
        csv.append(id).append(',').append(e).append(",train,loss,").append(MetricsCsv.format(testLoss * f))
            .append('\n');
      }
    }
    Files.writeString(dir.resolve("runs.jsonl"), jsonl.toString());
    Files.writeString(dir.resolve("metrics.csv"), csv.toString());
    return dir;
  }

  Claims.Verdict verdict(List<R> runs, String claimStart) throws Exception {
    List<Claims.Verdict> vs = Claims.verdicts(ResultSet.read(write(runs)));
    return vs.stream().filter(v -> v.claim().startsWith(claimStart)).findFirst().orElseThrow(() ->
        new AssertionError("no verdict " + claimStart + " in " + vs));
  }

  /** The five arms on one data set; Path-SGD κ^(1) {@code p1}, κ^(1)+κ^(2) {@code p2}, SGD, IRNN, AdaGrad per seed. */
  static List<R> arms(String ds, double[] p1, double[] p2, double[] sgd, double[] irnn, double[] ada) {
    List<R> out = new ArrayList<>();
    for (int s = 0; s < 3; s++) {
      out.add(new R(ds, "path-sgd", "balanced", false, s + 1, p1[s]));
      out.add(new R(ds, "path-sgd", "balanced", true, s + 1, p2[s]));
      out.add(new R(ds, "sgd", "balanced", false, s + 1, sgd[s]));
      out.add(new R(ds, "sgd", "irnn", false, s + 1, irnn[s]));
      out.add(new R(ds, "adagrad", "balanced", false, s + 1, ada[s]));
    }
    return out;
  }

  static final double[] SOLVED = {0.02, 0.03, 0.045};
  static final double[] NEAR = {0.021, 0.0295, 0.0455};
  static final double[] FAILED = {0.9, 0.97, 1.01};

  @Test
  void solvesTheAddingProblemFlipsWithTheBaselineAndWithPathSgd() throws Exception {
    String vsSgd = "Path-SGD κ^(1) solves the adding problem and SGD does not";
    Claims.Verdict v = verdict(arms("adding-400", SOLVED, NEAR, FAILED, FAILED, FAILED), vsSgd);
    assertThat(v.verdict()).as(v.cell()).isEqualTo(Claims.HOLDS);
    assertThat(v.numbers()).contains("Path-SGD κ^(1) on 3 of 3 seeds, SGD on 0 of 3");
    // SGD solves it too: the claim does not hold at this T
    v = verdict(arms("adding-400", SOLVED, NEAR, new double[] {0.05, 0.06, 0.07}, FAILED, FAILED), vsSgd);
    assertThat(v.verdict()).as(v.cell()).isEqualTo(Claims.DOES_NOT_HOLD);
    // Path-SGD misses on one seed: neither all nor none
    v = verdict(arms("adding-400", new double[] {0.02, 0.5, 0.045}, NEAR, FAILED, FAILED, FAILED), vsSgd);
    assertThat(v.verdict()).as(v.cell()).isEqualTo(Claims.CANNOT_TELL);
    // Path-SGD solves it on no seed
    v = verdict(arms("adding-400", new double[] {0.5, 0.6, 0.7}, NEAR, FAILED, FAILED, FAILED), vsSgd);
    assertThat(v.verdict()).as(v.cell()).isEqualTo(Claims.DOES_NOT_HOLD);
    // IRNN: its own row
    Claims.Verdict irnn = verdict(arms("adding-400", SOLVED, NEAR, FAILED, new double[] {0.01, 0.02, 0.03},
        FAILED), "Path-SGD κ^(1) solves the adding problem and IRNN does not");
    assertThat(irnn.verdict()).as(irnn.cell()).isEqualTo(Claims.DOES_NOT_HOLD);
    // a diverged SGD run counts as not solved: the counts decide, thin
    List<R> runs = arms("adding-400", SOLVED, NEAR, FAILED, FAILED, FAILED);
    runs.replaceAll(r -> r.optimizer().equals("sgd") && r.init().equals("balanced") && r.seed() == 2
        ? new R(r.dataset(), "sgd", "balanced", false, 2, 5.0, 1, "diverged") : r);
    v = verdict(runs, vsSgd);
    assertThat(v.verdict()).as(v.cell()).isEqualTo(Claims.HOLDS);
    assertThat(v.strength()).isEqualTo("thin");
    assertThat(v.numbers()).contains("a diverged run counts as not solved").contains("SGD diverged on 1 of 3 seeds");
  }

  @Test
  void kappa2ChangesLittleFlipsWhenItMovesEverySeedBeyondTheSpread() throws Exception {
    String little = "κ^(2) changes little";
    Claims.Verdict v = verdict(arms("adding-100", SOLVED, NEAR, FAILED, FAILED, FAILED), little);
    assertThat(v.verdict()).as(v.cell()).isEqualTo(Claims.HOLDS);
    v = verdict(arms("adding-100", SOLVED, new double[] {0.32, 0.33, 0.344}, FAILED, FAILED, FAILED), little);
    assertThat(v.verdict()).as(v.cell()).isEqualTo(Claims.DOES_NOT_HOLD);
    assertThat(v.strength()).isEqualTo("clear");
    // one seed moved by more than the spread, the others not: no decision
    v = verdict(arms("adding-100", SOLVED, new double[] {0.021, 0.08, 0.0455}, FAILED, FAILED, FAILED), little);
    assertThat(v.verdict()).as(v.cell()).isEqualTo(Claims.CANNOT_TELL);
    // the same rule on sequential MNIST's test error
    v = verdict(arms("seqmnist-14", new double[] {0.10, 0.12, 0.11}, new double[] {0.101, 0.119, 0.111},
        FAILED, FAILED, FAILED), little);
    assertThat(v.verdict()).as(v.cell()).isEqualTo(Claims.HOLDS);
    assertThat(v.claim()).endsWith("test error");
  }

  @Test
  void lowerSequentialMnistTestErrorAtEqualEpochsFlips() throws Exception {
    double[] path = {0.10, 0.12, 0.11};
    double[] worse = {0.30, 0.33, 0.31};
    String vsAda = "Path-SGD κ^(1)'s test error below AdaGrad's at equal epochs";
    Claims.Verdict v = verdict(arms("seqmnist-14", path, path, worse, worse, worse), vsAda);
    assertThat(v.verdict()).as(v.cell()).isEqualTo(Claims.HOLDS);
    v = verdict(arms("seqmnist-14", worse, worse, path, path, path), vsAda);
    assertThat(v.verdict()).as(v.cell()).isEqualTo(Claims.DOES_NOT_HOLD);
    List<R> runs = arms("seqmnist-14", path, path, worse, worse, worse);
    runs.replaceAll(r -> r.optimizer().equals("adagrad") && r.seed() == 1 ? new R(r.dataset(), "adagrad",
        "balanced", false, 1, r.value(), 2, "completed") : r);
    v = verdict(runs, vsAda);
    assertThat(v.verdict()).as(v.cell()).isEqualTo(Claims.CANNOT_TELL);
    assertThat(v.numbers()).startsWith("not at equal epochs");
  }
}
