package io.github.pathsgd.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.rundir.MetricsCsv;
import io.github.pathsgd.report.ResultSet.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Verdicts computed from result files written by the test, then the data changed and the verdict seen to change:
 * AdaGrad's loss made lower, a run made to diverge, a gap shrunk inside the seed spread or the noise floor, an
 * invariance gap widened past the noise floor, the norm that tracks test error across H swapped for the size.
 */
class VerdictTest {
  /** One run of a hand-made sweep: its config, status and training-loss curve (epochs 0..n). */
  record R(String phase, String dataset, String optimizer, String init, double dropout, int seed, int threads,
      String status, double[] loss, double testError, double trainError, int hidden, Map<String, Double> norms) {
    R(String phase, String optimizer, String init, int seed, double... loss) {
      this(phase, "mnist", optimizer, init, 0.0, seed, 1, "completed", loss, 0.05, 0.0, 1000, Map.of());
    }

    R diverged() {
      return new R(phase, dataset, optimizer, init, dropout, seed, threads, "diverged", loss, testError, trainError,
          hidden, norms);
    }

    R test(double e) {
      return new R(phase, dataset, optimizer, init, dropout, seed, threads, status, loss, e, trainError, hidden,
          norms);
    }

    R threads(int t) {
      return new R(phase, dataset, optimizer, init, dropout, seed, t, status, loss, testError, trainError, hidden,
          norms);
    }
  }

  static Path write(Path dir, String figure, List<R> runs) throws Exception {
    Files.createDirectories(dir);
    ObjectNode sweep = Configs.json().createObjectNode();
    sweep.put("experiment", figure).put("figure", figure).put("scale", "medium").put("seeds", 2);
    Files.writeString(dir.resolve("sweep.json"), sweep.toString());
    StringBuilder jsonl = new StringBuilder();
    StringBuilder csv = new StringBuilder(MetricsCsv.HEADER).append('\n');
    int i = 0;
    for (R r : runs) {
      String id = String.format(Locale.ROOT, "%012x", 0xabc000 + i++);
      ObjectNode line = Configs.json().createObjectNode();
      line.put("run_id", id).put("phase", r.phase()).put("status", r.status());
      ObjectNode c = line.putObject("config");
      c.put("dataset", r.dataset()).put("optimizer", r.optimizer()).put("init", r.init()).put("dropout", r.dropout())
          .put("seed", r.seed()).put("threads", r.threads()).putArray("hidden").add(r.hidden());
      // noise runs read the same data from another folder, as runs added later from another checkout do: still
      // repeats of their runs (run ids leave data_dir out too)
      c.put("data_dir", r.phase().equals("noise") ? "/elsewhere/data" : "results/medium/.data");
      ObjectNode s = line.putObject("summary");
      s.put("epochs_completed", r.loss().length - 1);
      s.putObject("final").put("test_error", r.testError()).put("train_error", r.trainError());
      jsonl.append(line).append('\n');
      for (int e = 0; e < r.loss().length; e++) {
        csv.append(id).append(',').append(e).append(",train,loss,").append(MetricsCsv.format(r.loss()[e]))
            .append('\n');
      }
    }
    Files.writeString(dir.resolve("runs.jsonl"), jsonl.toString());
    Files.writeString(dir.resolve("metrics.csv"), csv.toString());
    return dir;
  }

  static Map<String, Claims.Verdict> verdicts(Path dir) {
    Map<String, Claims.Verdict> m = new HashMap<>();
    for (Claims.Verdict v : Claims.verdicts(ResultSet.read(dir))) {
      m.put(v.claim() + " @ " + v.dataset(), v);
    }
    return m;
  }

  static final String VS_SGD = "Path-SGD's final training loss below SGD's, unbalanced init, no dropout @ mnist";
  static final String VS_ADA = "Path-SGD's final training loss below AdaGrad's, unbalanced init, no dropout @ mnist";
  static final String INV = "Path-SGD balanced and unbalanced coincide, no dropout @ mnist";

  /** E3 on one group, two seeds; Path-SGD at 0.10/0.11, the noise runs 0.100 vs 0.101 (floor 0.001). */
  static List<R> compare(double[] sgd, double[] ada, double invGap, boolean noise) {
    List<R> rs = new ArrayList<>();
    for (int seed = 1; seed <= 2; seed++) {
      double p = seed == 1 ? 0.10 : 0.11;
      rs.add(new R("final", "path-sgd", "unbalanced", seed, 2.3, 0.5, p));
      rs.add(new R("final", "path-sgd", "balanced", seed, 2.3, 0.5, p + invGap));
      rs.add(new R("final", "sgd", "unbalanced", seed, 2.3, 1.0, sgd[seed - 1]));
      rs.add(new R("final", "adagrad", "unbalanced", seed, 2.3, 0.8, ada[seed - 1]));
    }
    if (noise) {
      rs.add(new R("noise", "path-sgd", "unbalanced", 1, 2.3, 0.5, 0.100).threads(1));
      rs.add(new R("noise", "path-sgd", "unbalanced", 1, 2.3, 0.5005, 0.101).threads(2));
    }
    return rs;
  }

  @Test
  void oneSeedWithoutNoiseRunsIsCannotTellNeverHoldsOnAMarginOfZero(@TempDir Path tmp) throws Exception {
    // issue 29: with one seed and no noise floor the margin was 0, so any difference said "holds"
    List<R> one = compare(new double[] {0.30, 0.31}, new double[] {0.20, 0.21}, 1e-4, false).stream()
        .filter(r -> r.seed() == 1).toList();
    Map<String, Claims.Verdict> v = verdicts(write(tmp.resolve("one"), "compare", one));
    assertThat(v.get(VS_SGD).verdict()).isEqualTo(Claims.CANNOT_TELL);
    assertThat(v.get(VS_SGD).numbers()).contains("(mean of 1 and 1 seeds)").contains("noise floor not measured")
        .contains("the margin could not be estimated");
    // the same single seed with noise runs: still cannot tell. The floor measures float32 noise (the same run at 1 and
    // 2 BLAS threads), not how much two seeds differ, so it is no margin for two optimizers' different trajectories
    // (before, this 0.2 difference read "holds (clear)" on one seed)
    List<R> withNoise = new ArrayList<>(one);
    withNoise.addAll(compare(new double[] {0.30, 0.31}, new double[] {0.20, 0.21}, 1e-4, true).stream()
        .filter(r -> r.phase().equals("noise")).toList());
    v = verdicts(write(tmp.resolve("noise"), "compare", withNoise));
    assertThat(v.get(VS_SGD).verdict()).isEqualTo(Claims.CANNOT_TELL);
    assertThat(v.get(VS_SGD).numbers()).contains("noise floor 0.0010").contains("the margin could not be estimated "
        + "(one seed a side");
    // two seeds and no noise runs: the seed spread is a margin
    v = verdicts(write(tmp.resolve("two"), "compare",
        compare(new double[] {0.30, 0.31}, new double[] {0.20, 0.21}, 1e-4, false)));
    assertThat(v.get(VS_SGD).verdict()).isEqualTo(Claims.HOLDS);
  }

  @Test
  void compareVerdictsFollowTheData(@TempDir Path tmp) throws Exception {
    double[] sgd = {0.30, 0.31};
    double[] ada = {0.20, 0.21};
    Map<String, Claims.Verdict> v = verdicts(write(tmp.resolve("a"), "compare", compare(sgd, ada, 1e-4, true)));
    assertThat(v.get(VS_SGD).verdict()).isEqualTo(Claims.HOLDS);
    assertThat(v.get(VS_SGD).numbers()).contains("Path-SGD 0.1050 vs SGD 0.3050").contains("difference 0.2000")
        .contains("seed spread 0.0100").contains("noise floor 0.0010");
    assertThat(v.get(VS_ADA).verdict()).isEqualTo(Claims.HOLDS);
    // the invariance gap 1e-4 is within the noise runs' largest per-epoch gap (1e-3 at epoch 2)
    assertThat(v.get(INV).verdict()).isEqualTo(Claims.HOLDS);
    assertThat(v.get(INV).cell()).startsWith("holds to float32 precision: ");
    assertThat(v.get(INV).numbers()).contains("seed 1 1.00e-04 (0.10× the floor), seed 2 1.00e-04")
        .contains("noise floor of this setting 0.0010").contains("2 of 2 seeds inside it");

    // AdaGrad's loss made lower than Path-SGD's: against AdaGrad the claim fails, against SGD it still holds
    v = verdicts(write(tmp.resolve("b"), "compare", compare(sgd, new double[] {0.05, 0.06}, 1e-4, true)));
    assertThat(v.get(VS_ADA).verdict()).isEqualTo(Claims.DOES_NOT_HOLD);
    assertThat(v.get(VS_SGD).verdict()).isEqualTo(Claims.HOLDS);

    // AdaGrad 0.112 / 0.113: 0.0075 above Path-SGD, inside the seed spread 0.01: cannot tell
    v = verdicts(write(tmp.resolve("c"), "compare", compare(sgd, new double[] {0.112, 0.113}, 1e-4, true)));
    assertThat(v.get(VS_ADA).verdict()).isEqualTo(Claims.CANNOT_TELL);

    // SGD diverged (seed 2): never "slower", cannot tell, and says so
    List<R> rs = compare(sgd, ada, 1e-4, true);
    rs.set(6, rs.get(6).diverged());
    v = verdicts(write(tmp.resolve("d"), "compare", rs));
    assertThat(v.get(VS_SGD).verdict()).isEqualTo(Claims.CANNOT_TELL);
    assertThat(v.get(VS_SGD).numbers()).contains("SGD diverged on 1 of 2 seeds (seed 2, in epoch 3)")
        .contains("the runs that did not diverge: final training loss Path-SGD 0.1050 vs SGD 0.3000 (mean of 2 and 1 seeds)");
    assertThat(v.get(VS_ADA).verdict()).isEqualTo(Claims.HOLDS);

    // the invariance gap widened past the noise floor: does not hold; without noise runs: cannot tell
    v = verdicts(write(tmp.resolve("e"), "compare", compare(sgd, ada, 0.05, true)));
    assertThat(v.get(INV).verdict()).isEqualTo(Claims.DOES_NOT_HOLD);
    v = verdicts(write(tmp.resolve("f"), "compare", compare(sgd, ada, 1e-4, false)));
    assertThat(v.get(INV).verdict()).isEqualTo(Claims.CANNOT_TELL);
    assertThat(v.get(VS_SGD).numbers()).contains("noise floor not measured");

    // a large noise floor (1 vs 2 threads ending 0.15 apart) swallows the AdaGrad gap of 0.1, not SGD's of 0.2
    rs = compare(sgd, ada, 1e-4, true);
    rs.set(9, new R("noise", "path-sgd", "unbalanced", 1, 2.3, 0.5, 0.25).threads(2));
    v = verdicts(write(tmp.resolve("g"), "compare", rs));
    assertThat(v.get(VS_ADA).verdict()).isEqualTo(Claims.CANNOT_TELL);
    assertThat(v.get(VS_SGD).verdict()).isEqualTo(Claims.HOLDS);

    // the report's table: a row per claim, a column per data set, the verdict first in each cell
    List<List<String>> table = Report.claimTable(ResultSet.read(tmp.resolve("b")));
    assertThat(table.get(0)).containsExactly("claim", "mnist");
    // AdaGrad lower on both seeds (t = −∞) but not at epoch 1 (0.8 against Path-SGD's 0.5): thin
    assertThat(table).anySatisfy(row -> assertThat(row.get(1)).startsWith("does not hold (thin): final training "
        + "loss"));
  }

  static final String TEST_SGD = "Path-SGD's test error below SGD's, unbalanced init, no dropout @ mnist";
  static final String TEST_ADA = "Path-SGD's test error below AdaGrad's, unbalanced init, no dropout @ mnist";

  /** The test-error half of the E3/E4 claim, against both baselines, with the test error's own noise floor. */
  @Test
  void testErrorVerdictsFollowTheData(@TempDir Path tmp) throws Exception {
    double[] sgd = {0.30, 0.31};
    double[] ada = {0.20, 0.21};
    // Path-SGD 0.020 / 0.021, SGD 0.050 / 0.052, AdaGrad 0.0205 / 0.0215; noise runs 0.020 vs 0.022 (floor 0.002)
    List<R> rs = withTestErrors(compare(sgd, ada, 1e-4, true), new double[] {0.020, 0.021},
        new double[] {0.050, 0.052}, new double[] {0.0205, 0.0215}, 0.022);
    Map<String, Claims.Verdict> v = verdicts(write(tmp.resolve("a"), "compare", rs));
    assertThat(v.get(TEST_SGD).verdict()).isEqualTo(Claims.HOLDS);
    assertThat(v.get(TEST_SGD).numbers()).startsWith("test error Path-SGD 0.0205 vs SGD 0.0510")
        .contains("difference 0.0305").contains("seed spread 0.0020").contains("noise floor 0.0020");
    // AdaGrad 0.0005 above Path-SGD: inside the noise, cannot tell (not "holds")
    assertThat(v.get(TEST_ADA).verdict()).isEqualTo(Claims.CANNOT_TELL);
    // the training-loss verdicts are unchanged by the test errors
    assertThat(v.get(VS_SGD).verdict()).isEqualTo(Claims.HOLDS);

    // AdaGrad's test error made clearly lower: does not hold against AdaGrad, still holds against SGD
    rs = withTestErrors(compare(sgd, ada, 1e-4, true), new double[] {0.020, 0.021}, new double[] {0.050, 0.052},
        new double[] {0.010, 0.011}, 0.022);
    v = verdicts(write(tmp.resolve("b"), "compare", rs));
    assertThat(v.get(TEST_ADA).verdict()).isEqualTo(Claims.DOES_NOT_HOLD);
    assertThat(v.get(TEST_SGD).verdict()).isEqualTo(Claims.HOLDS);

    // a test-error noise floor of 0.04 (1 vs 2 threads) swallows SGD's 0.03 gap: cannot tell
    rs = withTestErrors(compare(sgd, ada, 1e-4, true), new double[] {0.020, 0.021}, new double[] {0.050, 0.052},
        new double[] {0.010, 0.011}, 0.060);
    v = verdicts(write(tmp.resolve("c"), "compare", rs));
    assertThat(v.get(TEST_SGD).verdict()).isEqualTo(Claims.CANNOT_TELL);
    assertThat(v.get(TEST_SGD).numbers()).contains("noise floor 0.0400");
  }

  /** The runs of {@link #compare} with test errors per seed for Path-SGD (both inits), SGD and AdaGrad, and noise. */
  static List<R> withTestErrors(List<R> rs, double[] path, double[] sgd, double[] ada, double noiseTwo) {
    List<R> out = new ArrayList<>();
    for (R r : rs) {
      double[] e = switch (r.optimizer()) {
        case "sgd" -> sgd;
        case "adagrad" -> ada;
        default -> path;
      };
      out.add(r.phase().equals("noise") ? r.test(r.threads() == 1 ? 0.020 : noiseTwo) : r.test(e[r.seed() - 1]));
    }
    return out;
  }

  @Test
  void rescalingVerdicts(@TempDir Path tmp) throws Exception {
    List<R> rs = new ArrayList<>();
    for (int seed = 1; seed <= 2; seed++) {
      rs.add(new R("main", "sgd", "balanced", seed, 2.3, 1.0, 0.5 + seed * 0.01));
      rs.add(new R("main", "sgd", "unbalanced", seed, 2.3, 2.3, 2.3));
      rs.add(new R("main", "path-sgd", "balanced", seed, 2.3, 0.9, 0.4));
      rs.add(new R("main", "path-sgd", "unbalanced", seed, 2.3, 0.9001, 0.4001));
    }
    rs.add(new R("noise", "path-sgd", "balanced", 1, 2.3, 0.9, 0.4).threads(1));
    rs.add(new R("noise", "path-sgd", "balanced", 1, 2.3, 0.9003, 0.4002).threads(2));
    String slower = "SGD slower from the unbalanced start (final training loss above the balanced start's) @ mnist";
    String inv = "Path-SGD balanced and unbalanced coincide @ mnist";
    Map<String, Claims.Verdict> v = verdicts(write(tmp.resolve("a"), "rescaling", rs));
    assertThat(v.get(slower).verdict()).isEqualTo(Claims.HOLDS);
    assertThat(v.get(inv).verdict()).isEqualTo(Claims.HOLDS);
    // SGD from the unbalanced start diverged: reported as diverged, not as slower
    rs.set(1, rs.get(1).diverged());
    v = verdicts(write(tmp.resolve("b"), "rescaling", rs));
    assertThat(v.get(slower).verdict()).isEqualTo(Claims.CANNOT_TELL);
    assertThat(v.get(slower).numbers()).contains("SGD unbalanced diverged on 1 of")
        .contains("neither slower nor faster");
  }

  static Run sizeRun(String ds, int h, int seed, double trainErr, double testErr, Map<String, Double> norms) {
    ObjectNode line = Configs.json().createObjectNode();
    line.put("run_id", ds + h + "-" + seed).put("phase", "main").put("status", "completed");
    line.putObject("config").put("dataset", ds).put("seed", seed).putArray("hidden").add(h);
    line.putObject("summary").put("epochs_completed", 10).putObject("final").put("train_error", trainErr)
        .put("test_error", testErr);
    Map<String, TreeMap<Integer, Double>> curves = new HashMap<>();
    norms.forEach((k, v) -> curves.put("model/" + k, new TreeMap<>(Map.of(10, v))));
    return new Run(line, curves);
  }

  static ResultSet size(double[] test, double[] path, double[] l2, double spreadLast) {
    int[] hs = {16, 64, 256, 1024};
    List<Run> runs = new ArrayList<>();
    for (int i = 0; i < hs.length; i++) {
      for (int seed = 1; seed <= 2; seed++) {
        double t = test[i] + (i == hs.length - 1 && seed == 2 ? spreadLast : 0);
        runs.add(sizeRun("mnist", hs[i], seed, i == 0 ? 0.02 : 0.0, t, Map.of("path_norm_2", path[i], "l2_norm",
            l2[i], "spectral_norm_product", 5.0 + i)));
      }
    }
    ObjectNode sweep = Configs.json().createObjectNode();
    sweep.put("experiment", "size").put("figure", "size").put("scale", "medium");
    return ResultSet.of(Path.of("."), sweep, runs);
  }

  @Test
  void sizeVerdictsAndTheMeasureThatTracksTestError() {
    String past = "test error at the largest H not above the test error where training error first reaches 0";
    String tracks = "a norm, not the size H, tracks test error across H (Spearman rank correlation)";
    // test error falls with H; the path norm falls with it (ρ = 1), l2 and H grow (ρ = −1)
    double[] test = {0.10, 0.08, 0.07, 0.06};
    List<Claims.Verdict> v = Claims.size(size(test, new double[] {9, 7, 5, 3}, new double[] {1, 2, 3, 4}, 0));
    assertThat(v).filteredOn(x -> x.claim().equals(past)).singleElement().satisfies(x -> {
      assertThat(x.verdict()).isEqualTo(Claims.HOLDS);
      assertThat(x.numbers()).contains("0.0800 at H=64").contains("0.0600 at H=1024");
    });
    // every measure monotone in H (the path norm falls, l2 and the spectral product rise): the path norm's ρ = 1 is
    // H's ρ = −1 turned over, so across H it cannot be told from size (issue 26 item 2)
    assertThat(v).filteredOn(x -> x.claim().equals(tracks)).singleElement().satisfies(x -> {
      assertThat(x.verdict()).isEqualTo(Claims.CANNOT_TELL);
      assertThat(x.numbers()).startsWith("every measure is monotone in H").contains("size H ρ = -1.0000")
          .contains("path_norm_2 ρ = 1.0000 (monotone in H)");
    });
    // test error not monotone in H (H's |ρ| = 0.4) and a path norm that is not either, ranking it exactly: holds
    v = Claims.size(size(new double[] {0.10, 0.06, 0.08, 0.07}, new double[] {9, 3, 7, 5},
        new double[] {1, 2, 3, 4}, 0));
    assertThat(v).filteredOn(x -> x.claim().equals(tracks)).singleElement().satisfies(x -> {
      assertThat(x.verdict()).isEqualTo(Claims.HOLDS);
      assertThat(x.numbers()).contains("size H ρ = -0.4000 (monotone in H)").contains("path_norm_2 ρ = 1.0000;")
          .contains("tracks best: path_norm_2, not monotone in H");
    });
    // the last size's seeds 0.06 and 0.09 apart: the 0.005 gain past H=64 is inside the spread
    v = Claims.size(size(new double[] {0.10, 0.08, 0.07, 0.06}, new double[] {9, 7, 5, 3},
        new double[] {1, 2, 3, 4}, 0.03));
    assertThat(v).filteredOn(x -> x.claim().equals(past)).singleElement()
        .satisfies(x -> assertThat(x.verdict()).isEqualTo(Claims.CANNOT_TELL));
    // test error rising with H (a U-curve's right arm): the claim past interpolation fails
    v = Claims.size(size(new double[] {0.10, 0.06, 0.08, 0.12}, new double[] {3, 9, 7, 5},
        new double[] {1, 2, 3, 4}, 0));
    assertThat(v).filteredOn(x -> x.claim().equals(past)).singleElement()
        .satisfies(x -> assertThat(x.verdict()).isEqualTo(Claims.DOES_NOT_HOLD));
    // ... and the U-curve: 0.12 at the largest H against 0.06 at H=64
    assertThat(v).filteredOn(x -> x.claim().equals(noU)).singleElement().satisfies(x -> {
      assertThat(x.verdict()).isEqualTo(Claims.DOES_NOT_HOLD);
      assertThat(x.numbers()).contains("0.1200 at H=1024 (largest), lowest 0.0600 at H=64, difference 0.0600");
    });
    // test error falling with H: no U-curve (the largest H is the lowest)
    v = Claims.size(size(test, new double[] {9, 7, 5, 3}, new double[] {1, 2, 3, 4}, 0));
    assertThat(v).filteredOn(x -> x.claim().equals(noU)).singleElement()
        .satisfies(x -> assertThat(x.verdict()).isEqualTo(Claims.HOLDS));
    // every measure falls as test error rises (the best, the path norm, at ρ = −0.8): no norm tracks it
    v = Claims.size(size(test, new double[] {1, 2, 4, 3}, new double[] {1, 2, 3, 4}, 0));
    assertThat(v).filteredOn(x -> x.claim().equals(tracks)).singleElement().satisfies(x -> {
      assertThat(x.verdict()).isEqualTo(Claims.DOES_NOT_HOLD);
      assertThat(x.numbers()).contains("path_norm_2 ρ = -0.8000").contains("no measure rises with test error");
    });
    // the path norm at ρ = 0.8 over 4 sizes: below the critical value 0.9497: cannot tell
    v = Claims.size(size(test, new double[] {9, 7, 3, 5}, new double[] {1, 2, 3, 4}, 0));
    assertThat(v).filteredOn(x -> x.claim().equals(tracks)).singleElement().satisfies(x -> {
      assertThat(x.verdict()).isEqualTo(Claims.CANNOT_TELL);
      assertThat(x.numbers()).contains("path_norm_2 ρ = 0.8000").contains("below 0.9497");
    });
  }

  static final String noU = "no U-curve: test error at the largest H within the noise of the lowest test error over H";

  @Test
  void spearmanWorkedOutByHand() {
    assertThat(Claims.spearman(new double[] {1, 2, 3}, new double[] {3, 2, 1})).isEqualTo(-1.0);
    // ranks x: 1, 2.5, 2.5, 4; y: 1, 2, 3, 4: ρ = 4.5 / sqrt(4.5 · 5) = 0.9487
    assertThat(Claims.spearman(new double[] {1, 5, 5, 9}, new double[] {1, 2, 3, 4})).isCloseTo(0.9487,
        org.assertj.core.data.Offset.offset(1e-4));
    assertThat(Claims.spearman(new double[] {1, 2}, new double[] {1, 2})).isNaN();
  }
}
