package io.github.pathsgd.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.report.ResultSet.Run;
import io.github.pathsgd.report.VerdictTest.R;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 26: the paired design and its strength (a thin margin, seeds and epochs won), the invariance claim per seed
 * against a noise distribution of its own setting, E2 at the tuned step size, and a norm told from size within H. Each
 * writes result files, reads the verdict, changes the data and sees the verdict change.
 */
class VerdictStrengthTest {
  static final String VS_SGD = "Path-SGD's final training loss below SGD's, unbalanced init, no dropout @ mnist";

  /** Three seeds; Path-SGD ends at 0.10 + seed/100, SGD that plus {@code d[seed - 1]}; the SGD curve above at epoch 1. */
  static List<R> three(double[] d) {
    List<R> rs = new ArrayList<>();
    for (int seed = 1; seed <= 3; seed++) {
      double p = 0.10 + seed / 100.0;
      rs.add(new R("final", "path-sgd", "unbalanced", seed, 2.3, 0.5, p));
      rs.add(new R("final", "sgd", "unbalanced", seed, 2.3, 0.5 + d[seed - 1], p + d[seed - 1]));
    }
    return rs;
  }

  static Map<String, Claims.Verdict> verdicts(Path dir, String figure, List<R> runs) throws Exception {
    return VerdictTest.verdicts(VerdictTest.write(dir, figure, runs));
  }

  @Test
  void pairedBySeedAThinMarginIsCannotTellAndAClearOneHolds(@TempDir Path tmp) throws Exception {
    // SGD above on every seed by 0.010, 0.012, 0.008: t = 8.66 with 2 df, p = 0.0065: holds, clear
    Claims.Verdict v = verdicts(tmp.resolve("a"), "compare", three(new double[] {0.010, 0.012, 0.008})).get(VS_SGD);
    assertThat(v.verdict()).isEqualTo(Claims.HOLDS);
    assertThat(v.strength()).isEqualTo("clear");
    assertThat(v.cell()).startsWith("holds (clear): final training loss Path-SGD 0.1200 vs SGD 0.1300");
    assertThat(v.numbers()).contains("Path-SGD lower on 3 of 3 seeds and in 2 of 2 epochs (seed means)")
        .contains("p = 0.0065 (2 df; a sign test over 3 seeds cannot go below 0.1250)");
    // 0.010, 0.015, 0.007: t = 4.57, p = 0.022: holds, but thin (p above 0.01)
    v = verdicts(tmp.resolve("b"), "compare", three(new double[] {0.010, 0.015, 0.007})).get(VS_SGD);
    assertThat(v.verdict()).isEqualTo(Claims.HOLDS);
    assertThat(v.strength()).isEqualTo("thin");
    // 0.010, 0.05, 0.002: SGD above on every seed, but the gaps vary: t = 1.39, p = 0.149: cannot tell
    v = verdicts(tmp.resolve("c"), "compare", three(new double[] {0.010, 0.05, 0.002})).get(VS_SGD);
    assertThat(v.verdict()).isEqualTo(Claims.CANNOT_TELL);
    assertThat(v.numbers()).contains("lower on 3 of 3 seeds").contains("p = 0.149");
    // a seed whose SGD run is far off (0.30): paired, the gaps 0.020, 0.021, 0.30 give t = 1.22, one-sided p = 0.17:
    // cannot tell, though SGD is above on every seed
    v = verdicts(tmp.resolve("d"), "compare", three(new double[] {0.020, 0.021, 0.30})).get(VS_SGD);
    assertThat(v.verdict()).isEqualTo(Claims.CANNOT_TELL);
    assertThat(v.numbers()).contains("lower on 3 of 3 seeds").contains("p = 0.17");
    // SGD below on every seed by a steady 0.05: does not hold, clear
    v = verdicts(tmp.resolve("e"), "compare", three(new double[] {-0.05, -0.051, -0.049})).get(VS_SGD);
    assertThat(v.verdict()).isEqualTo(Claims.DOES_NOT_HOLD);
    assertThat(v.strength()).isEqualTo("clear");
    assertThat(v.numbers()).contains("Path-SGD lower on 0 of 3 seeds and in 0 of 2 epochs");
  }

  @Test
  void studentTWorkedOutByHand() {
    // 1 df: 1/2 − atan(t)/π; 2 df: 1/2 − t / (2·sqrt(2 + t²)); many df: the normal tail
    assertThat(Stats.tUpper(1, 1)).isCloseTo(0.25, within(1e-12));
    assertThat(Stats.tUpper(3, 2)).isCloseTo(0.5 - 3 / (2 * Math.sqrt(11)), within(1e-12));
    assertThat(Stats.tUpper(-3, 2)).isCloseTo(0.5 + 3 / (2 * Math.sqrt(11)), within(1e-12));
    assertThat(Stats.tUpper(0, 7)).isCloseTo(0.5, within(1e-12));
    assertThat(Stats.tUpper(1.6448536269514722, 100000)).isCloseTo(0.05, within(1e-4));
    // differences 1, 2, 3: mean 2, sd 1, t = 2·sqrt(3)
    assertThat(Stats.pairedUpper(new double[] {1, 2, 3}))
        .isCloseTo(0.5 - 2 * Math.sqrt(3) / (2 * Math.sqrt(2 + 12)), within(1e-12));
    assertThat(Stats.pairedUpper(new double[] {0.2, 0.2})).isZero();
    assertThat(Stats.pairedUpper(new double[] {0.2})).isNaN();
  }

  static final String INV = "Path-SGD balanced and unbalanced coincide, no dropout @ mnist";
  static final String INV_DROP = "Path-SGD balanced and unbalanced coincide, dropout 0.5 @ mnist";

  /**
   * Path-SGD from both starts over 3 seeds, the unbalanced run's final loss {@code gaps[seed - 1]} above; noise runs of
   * the no-dropout setting repeating seed 1 (balanced and unbalanced) with 2 threads, ending {@code noise} above.
   */
  static List<R> invariance(double[] gaps, double[] noise, boolean dropoutToo) {
    List<R> rs = new ArrayList<>();
    for (double dropout : dropoutToo ? new double[] {0.0, 0.5} : new double[] {0.0}) {
      for (int seed = 1; seed <= 3; seed++) {
        double p = 0.10 + seed / 100.0;
        rs.add(at(new R("final", "path-sgd", "balanced", seed, 2.3, 0.5, p), dropout));
        rs.add(at(new R("final", "path-sgd", "unbalanced", seed, 2.3, 0.5, p + gaps[seed - 1]), dropout));
      }
    }
    rs.add(new R("noise", "path-sgd", "balanced", 1, 2.3, 0.5, 0.11 + noise[0]).threads(2));
    rs.add(new R("noise", "path-sgd", "unbalanced", 1, 2.3, 0.5, 0.11 + gaps[0] + noise[1]).threads(2));
    return rs;
  }

  static R at(R r, double dropout) {
    return new R(r.phase(), r.dataset(), r.optimizer(), r.init(), dropout, r.seed(), r.threads(), r.status(),
        r.loss(), r.testError(), r.trainError(), r.hidden(), r.norms());
  }

  @Test
  void invariancePerSeedAgainstTheNoiseOfItsOwnSetting(@TempDir Path tmp) throws Exception {
    // gaps 1e-4, 2e-4, 1.5e-4 against noise pairs 3e-4 and 1e-4: every seed inside: holds to float32 precision
    Map<String, Claims.Verdict> v = verdicts(tmp.resolve("a"), "compare",
        invariance(new double[] {1e-4, 2e-4, 1.5e-4}, new double[] {3e-4, 1e-4}, true));
    assertThat(v.get(INV).cell()).startsWith("holds to float32 precision: ");
    assertThat(v.get(INV).numbers()).contains("noise floor of this setting 3.00e-04, the largest of 2 noise pairs")
        .contains("3 of 3 seeds inside it").contains("seed 2 2.00e-04 (0.67× the floor)");
    // the dropout setting has no noise runs of its own: no floor borrowed from the no-dropout setting
    assertThat(v.get(INV_DROP).verdict()).isEqualTo(Claims.CANNOT_TELL);
    assertThat(v.get(INV_DROP).numbers()).contains("no floor for this setting");
    // one seed's gap (5e-4) outside the distribution: cannot tell, 2 of 3 inside
    v = verdicts(tmp.resolve("b"), "compare",
        invariance(new double[] {1e-4, 5e-4, 1.5e-4}, new double[] {3e-4, 1e-4}, false));
    assertThat(v.get(INV).verdict()).isEqualTo(Claims.CANNOT_TELL);
    assertThat(v.get(INV).numbers()).contains("2 of 3 seeds inside it");
    // every seed's gap far outside: does not hold, clear (above twice the floor, two noise pairs)
    v = verdicts(tmp.resolve("c"), "compare",
        invariance(new double[] {0.01, 0.02, 0.015}, new double[] {3e-4, 1e-4}, false));
    assertThat(v.get(INV).verdict()).isEqualTo(Claims.DOES_NOT_HOLD);
    assertThat(v.get(INV).strength()).isEqualTo("clear");
    // the cross pair (balanced 1 thread vs unbalanced 2 threads) carries the gap itself: shown, never the floor
    assertThat(v.get(INV).numbers()).contains("cross pairs").contains("noise floor of this setting 3.00e-04");
  }

  @Test
  void aGapBelowTheFloat32ResolutionOfTheLossHoldsEvenWhenTheThreadNoiseIsExactlyZero(@TempDir Path tmp)
      throws Exception {
    // the curves start at 2.3, whose float32 ulp is 2^-22 = 2.38e-7; small GEMMs give the same bits at 1 and 2 threads
    double ulp = Math.ulp(2.3f);
    assertThat(ulp).isEqualTo(Math.scalb(1.0, -22));
    Map<String, Claims.Verdict> v = verdicts(tmp.resolve("a"), "compare",
        invariance(new double[] {1e-8, 5e-8, 2e-8}, new double[] {0, 0}, true));
    assertThat(v.get(INV).cell()).startsWith("holds to float32 precision: ");
    assertThat(v.get(INV).numbers()).contains("noise floor of this setting 2.38e-07, the largest of 2 noise pairs "
        + "(same run, 1 vs 2 BLAS threads: 0.0000, 0.0000) raised to the float32 resolution of the loss, 2.38e-07")
        .contains("3 of 3 seeds inside it");
    // no noise run in the dropout setting, but every gap is below one ulp of the loss: holds as well
    assertThat(v.get(INV_DROP).cell()).startsWith("holds to float32 precision: ");
    assertThat(v.get(INV_DROP).numbers()).contains("no noise run for this setting; every gap is within the float32 "
        + "resolution of the loss, 2.38e-07");
    // gaps of 1e-6 (four ulps) against a zero thread noise: beyond the resolution on every seed: does not hold
    v = verdicts(tmp.resolve("b"), "compare",
        invariance(new double[] {1e-6, 2e-6, 1.5e-6}, new double[] {0, 0}, true));
    assertThat(v.get(INV).verdict()).isEqualTo(Claims.DOES_NOT_HOLD);
    assertThat(v.get(INV).numbers()).contains("0 of 3 seeds inside it");
    // and without noise runs a gap above the resolution stays cannot tell: the noise could be larger
    assertThat(v.get(INV_DROP).verdict()).isEqualTo(Claims.CANNOT_TELL);
    assertThat(v.get(INV_DROP).numbers()).contains("no floor for this setting");
  }

  static final String E2 = "E2 at the tuned step size: SGD's final training loss from the unbalanced start above "
      + "the balanced start's, no dropout @ mnist";

  @Test
  void e2AtTheTunedStepSizeIsItsOwnRow(@TempDir Path tmp) throws Exception {
    List<R> rs = new ArrayList<>();
    double[] unb = {0.37, 0.36, 0.38};
    for (int seed = 1; seed <= 3; seed++) {
      rs.add(new R("final", "sgd", "balanced", seed, 2.3, 0.1, 0.002 + seed * 0.001));
      rs.add(new R("final", "sgd", "unbalanced", seed, 2.3, 1.0, unb[seed - 1]));
    }
    Map<String, Claims.Verdict> v = verdicts(tmp.resolve("a"), "compare", rs);
    assertThat(v.get(E2).verdict()).isEqualTo(Claims.HOLDS);
    assertThat(v.get(E2).numbers()).contains("SGD balanced lower on 3 of 3 seeds and in 2 of 2 epochs");
    // the unbalanced start made the faster one on seed 2: 2 of 3 seeds, cannot tell
    rs.set(3, new R("final", "sgd", "unbalanced", 2, 2.3, 0.05, 0.001));
    v = verdicts(tmp.resolve("b"), "compare", rs);
    assertThat(v.get(E2).verdict()).isEqualTo(Claims.CANNOT_TELL);
    assertThat(v.get(E2).numbers()).contains("lower on 2 of 3 seeds");
    // a diverged run is shown as diverged
    rs.set(1, rs.get(1).diverged());
    v = verdicts(tmp.resolve("c"), "compare", rs);
    assertThat(v.get(E2).numbers()).contains("SGD unbalanced diverged on 1 of 3 seeds (seed 1");
    // and in the report's run table: its status and epoch, "diverged" where its final errors would stand
    Report.write(tmp.resolve("c"));
    assertThat(java.nio.file.Files.readString(tmp.resolve("c").resolve("report.md")))
        .contains("| diverged in epoch 3 | 2 | diverged | diverged | diverged |");
  }

  static final String TRACKS = "a norm, not the size H, tracks test error across H (Spearman rank correlation)";

  /**
   * Four sizes, three seeds each; test error 0.10, 0.06, 0.08, 0.07 over H (not monotone), seed s adding s/1000; the
   * path norm 9, 3, 7, 5 over H (ranks test error across H exactly), within H rising (or falling) with the seed.
   */
  static ResultSet withinH(boolean sameWayWithin) {
    int[] hs = {16, 64, 256, 1024};
    double[] test = {0.10, 0.06, 0.08, 0.07};
    double[] path = {9, 3, 7, 5};
    List<Run> runs = new ArrayList<>();
    for (int i = 0; i < hs.length; i++) {
      for (int seed = 1; seed <= 3; seed++) {
        double norm = path[i] + (sameWayWithin ? seed : -seed) * 0.1;
        runs.add(VerdictTest.sizeRun("mnist", hs[i], seed, 0.0, test[i] + seed / 1000.0,
            Map.of("path_norm_2", norm, "l2_norm", 1.0 + i)));
      }
    }
    ObjectNode sweep = Configs.json().createObjectNode();
    sweep.put("experiment", "size").put("figure", "size").put("scale", "medium");
    return ResultSet.of(Path.of("."), sweep, runs);
  }

  @Test
  void aNormIsToldFromSizeWithinH() {
    Claims.Verdict v = Claims.size(withinH(true)).stream().filter(x -> x.claim().equals(TRACKS)).findFirst()
        .orElseThrow();
    assertThat(v.verdict()).isEqualTo(Claims.HOLDS);
    assertThat(v.numbers()).contains("path_norm_2 ρ = 1.0000, within H 1.0000 (mean over 4 sizes)")
        .contains("l2_norm ρ = -0.4000 (monotone in H);");
    // the same across H, but within H the norm falls as test error rises: cannot tell
    v = Claims.size(withinH(false)).stream().filter(x -> x.claim().equals(TRACKS)).findFirst().orElseThrow();
    assertThat(v.verdict()).isEqualTo(Claims.CANNOT_TELL);
    assertThat(v.numbers()).contains("within H it does not rank test error (mean ρ -1.0000)");
  }

}
