package io.github.pathsgd.core.rnn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.testkit.Tries;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** φ_p, κ^(1) and κ^(2) against every unrolled path, the finite-difference definition, and range at long T. */
class RnnGeometryTest {
  record Net(RnnLayout layout, int steps, double[] w) {}

  static Net draw(SplittableRandom r) {
    RnnLayout l = new RnnLayout(1 + r.nextInt(2), 1 + r.nextInt(3), 1 + r.nextInt(2));
    int steps = 1 + r.nextInt(5);
    double[] w = new double[l.size()];
    for (int i = 0; i < w.length; i++) {
      w[i] = r.nextInt(10) == 0 ? 0 : r.nextDouble(-1.5, 1.5);
    }
    return new Net(l, steps, w);
  }

  static void close(double actual, double expected, String what) {
    assertThat(actual).as(what).isCloseTo(expected, within(1e-9 * Math.abs(expected) + 1e-300));
  }

  @Test
  void pathNormAndKappaOneMatchEveryPathForSeveralP() {
    Tries.forAll(60, 2511, List.of(), RnnGeometryTest::draw, n -> {
      List<int[]> paths = RnnPaths.enumerate(n.layout, n.steps);
      for (double p : new double[] {1, 1.5, 2, 3}) {
        RnnGeometry geo = new RnnGeometry(n.layout, n.steps, p);
        close(geo.pathNorm(n.w), RnnPaths.phi(paths, n.w, p), "φ_" + p);
        close(Math.pow(2, geo.log2PathNorm(n.w)), RnnPaths.phi(paths, n.w, p), "2^log2 φ_" + p);
        RnnKappa k = geo.kappa(n.w, false);
        for (int i = 0; i < n.w.length; i++) {
          double s1 = RnnPaths.sum(paths, n.w, p, i, false);
          close(k.kappa1(i), Math.pow(s1, 2 / p), "κ1[" + i + "] p=" + p + " " + n.layout + " T=" + n.steps);
        }
      }
    });
  }

  @Test
  void fullKappaMatchesEveryPathForPOneAndTwo() {
    Tries.forAll(60, 2512, List.of(), RnnGeometryTest::draw, n -> {
      List<int[]> paths = RnnPaths.enumerate(n.layout, n.steps);
      for (double p : new double[] {1, 2}) {
        RnnKappa k = new RnnGeometry(n.layout, n.steps, p).kappa(n.w, true);
        for (int i = 0; i < n.w.length; i++) {
          double full = RnnPaths.sum(paths, n.w, p, i, true);
          double s1 = RnnPaths.sum(paths, n.w, p, i, false);
          String at = "[" + i + "] p=" + p + " " + n.layout + " T=" + n.steps;
          close(k.kappa(i, true), Math.pow(full, 2 / p), "κ" + at);
          close(k.second(i), full - s1, "S2" + at);
          if (i < n.layout.wRec() || i >= n.layout.b() || p == 1) {
            assertThat(k.second(i)).as("S2 off W_rec or at p = 1" + at).isZero();
          }
        }
      }
    });
  }

  @Test
  void secondTermIsNonzeroWhereAPathReusesAWeight() {
    // H = 1, T = 3: the path x_1 → h_1 → h_2 → h_3 → y uses w_rec twice; by hand with w_in = 1, b = 0, w_rec = 2,
    // w_out = 1, b_out = 0 (p = 2): paths from time 1: π = 1·w², from 2: w, from 3: 1 (and bias paths are 0).
    // κ^(1)(w_rec) = Σ k·rest = 2·w² + 1·1 = 9; κ^(2) = k(k−1)·rest = 2·w² = 8; κ = 17 = (d/dw: 2w)² + 1² = 16 + 1.
    RnnLayout l = new RnnLayout(1, 1, 1);
    double[] w = {1, 2, 0, 1, 0};
    RnnKappa k = new RnnGeometry(l, 3, 2).kappa(w, true);
    assertThat(k.kappa1(l.wRec())).isEqualTo(9.0);
    assertThat(k.second(l.wRec())).isEqualTo(8.0);
    assertThat(k.kappa(l.wRec(), true)).isEqualTo(17.0);
    assertThat(k.ratioOnRec()).isCloseTo(8.0 / 9.0, within(1e-15));
  }

  @Test
  void kappaMatchesTheFiniteDifferenceDefinition() {
    Tries.forAll(30, 2513, List.of(), RnnGeometryTest::draw, n -> {
      List<int[]> paths = RnnPaths.enumerate(n.layout, n.steps);
      for (double p : new double[] {1, 2}) {
        RnnKappa k = new RnnGeometry(n.layout, n.steps, p).kappa(n.w, true);
        for (int i = 0; i < n.w.length; i++) {
          double delta = 1e-7;
          double fd = RnnPaths.finiteDifference(paths, n.w, p, i, delta);
          double kk = k.kappa(i, true);
          // truncation O(δ·k·κ/|w|) plus rounding O(ε·π/δ): both far below 1e-5 here
          assertThat(kk).as("κ[%d] p=%s %s T=%d", i, p, n.layout, n.steps)
              .isCloseTo(fd, within(1e-5 * (kk + 1e-3)));
        }
      }
    });
  }

  @Test
  void secondTermIsRefusedForOtherP() {
    assertThatThrownBy(() -> new RnnGeometry(new RnnLayout(1, 2, 1), 3, 3).kappa(new double[13], true))
        .hasMessageContaining("p = 3.0");
    assertThatThrownBy(() -> new RnnGeometry(new RnnLayout(1, 2, 1), 3, 0.5)).hasMessageContaining("0.5");
    assertThatThrownBy(() -> new RnnGeometry(new RnnLayout(1, 2, 1), 3, Double.POSITIVE_INFINITY))
        .hasMessageContaining("Infinity");
  }

  /**
   * T = 300 steps of a recurrent matrix with spectral radius near 100 in M = W_rec²: γ reaches about 10^600, far
   * outside the double range. The same sums in BigDecimal (the sweeps and the pair sum by powers of M, no recurrence)
   * give log₂ κ to 1e-9.
   */
  @Test
  void extendedRangeMatchesBigDecimalAtLongT() {
    RnnLayout l = new RnnLayout(1, 2, 1);
    int T = 300;
    double[] w = {0.5, -1.25, 9, -3, 2, 10.5, 0.25, -2, 1.5, -0.75, 0.125};
    assertThat(w).hasSize(l.size());
    RnnKappa k = new RnnGeometry(l, T, 2).kappa(w, true);
    BigDecimal[] s1 = new BigDecimal[l.size()];
    BigDecimal[] s2 = new BigDecimal[l.size()];
    bigKappa(l, T, w, s1, s2);
    for (int i = 0; i < l.size(); i++) {
      double want1 = log2(s1[i]);
      assertThat(k.log2Kappa(i, false)).as("log2 κ1[%d]", i).isCloseTo(want1, within(1e-9 * Math.abs(want1) + 1e-12));
      double want = log2(s1[i].add(s2[i]));
      assertThat(k.log2Kappa(i, true)).as("log2 κ[%d]", i).isCloseTo(want, within(1e-9 * Math.abs(want) + 1e-12));
    }
    assertThat(k.log2Kappa(l.wRec(), false)).isGreaterThan(1500); // really beyond the double range
    double ratio = 0; // the W_rec ratio, from the oracle
    double n1 = 0;
    for (int i = l.wRec(); i < l.b(); i++) {
      double r2 = Math.pow(2, log2(s2[i]) - log2(s1[l.wRec()]));
      double r1 = Math.pow(2, log2(s1[i]) - log2(s1[l.wRec()]));
      ratio += r2 * r2;
      n1 += r1 * r1;
    }
    assertThat(k.ratioOnRec()).isCloseTo(Math.sqrt(ratio / n1), within(1e-9 * Math.sqrt(ratio / n1)));
  }

  private static final MathContext MC = new MathContext(40);

  static double log2(BigDecimal v) {
    int shift = v.precision() - v.scale() - 1; // v = m·10^shift with m in [1, 10)
    double m = v.movePointLeft(shift).doubleValue();
    return Math.log(m) / Math.log(2) + shift * (Math.log(10) / Math.log(2));
  }

  /** S^(1) and S^(2) (p = 2) in BigDecimal, by the formulas of docs/rnn.md, the pair sum over (t, t′) directly. */
  static void bigKappa(RnnLayout l, int T, double[] w, BigDecimal[] s1, BigDecimal[] s2) {
    int H = l.hidden();
    int I = l.in();
    BigDecimal[] sq = new BigDecimal[w.length];
    for (int i = 0; i < w.length; i++) {
      sq[i] = new BigDecimal(w[i]).pow(2);
    }
    BigDecimal[][] g = new BigDecimal[T][H];
    BigDecimal[][] o = new BigDecimal[T][H];
    for (int t = 0; t < T; t++) {
      for (int j = 0; j < H; j++) {
        BigDecimal s = sq[l.b() + j];
        for (int i = 0; i < I; i++) {
          s = s.add(sq[l.wIn() + j * I + i]);
        }
        for (int c = 0; t > 0 && c < H; c++) {
          s = s.add(sq[l.wRec() + j * H + c].multiply(g[t - 1][c], MC), MC);
        }
        g[t][j] = s;
      }
    }
    for (int t = T - 1; t >= 0; t--) {
      for (int j = 0; j < H; j++) {
        BigDecimal s = BigDecimal.ZERO;
        if (t == T - 1) {
          for (int oo = 0; oo < l.out(); oo++) {
            s = s.add(sq[l.wOut() + oo * H + j]);
          }
        } else {
          for (int a = 0; a < H; a++) {
            s = s.add(o[t + 1][a].multiply(sq[l.wRec() + a * H + j], MC), MC);
          }
        }
        o[t][j] = s;
      }
    }
    java.util.Arrays.fill(s2, BigDecimal.ZERO);
    for (int j = 0; j < H; j++) {
      BigDecimal s = BigDecimal.ZERO;
      for (int t = 0; t < T; t++) {
        s = s.add(o[t][j], MC);
      }
      for (int i = 0; i < I; i++) {
        s1[l.wIn() + j * I + i] = s;
      }
      s1[l.b() + j] = s;
      for (int oo = 0; oo < l.out(); oo++) {
        s1[l.wOut() + oo * H + j] = g[T - 1][j];
      }
    }
    for (int oo = 0; oo < l.out(); oo++) {
      s1[l.bOut() + oo] = BigDecimal.ONE;
    }
    // M^s for s = 0..T
    BigDecimal[][][] pw = new BigDecimal[T][H][H];
    for (int a = 0; a < H; a++) {
      for (int b = 0; b < H; b++) {
        pw[0][a][b] = a == b ? BigDecimal.ONE : BigDecimal.ZERO;
      }
    }
    for (int s = 1; s < T; s++) {
      for (int a = 0; a < H; a++) {
        for (int b = 0; b < H; b++) {
          BigDecimal v = BigDecimal.ZERO;
          for (int c = 0; c < H; c++) {
            v = v.add(pw[s - 1][a][c].multiply(sq[l.wRec() + c * H + b], MC), MC);
          }
          pw[s][a][b] = v;
        }
      }
    }
    for (int a = 0; a < H; a++) {
      for (int b = 0; b < H; b++) {
        BigDecimal k1 = BigDecimal.ZERO;
        for (int t = 1; t < T; t++) {
          k1 = k1.add(o[t][a].multiply(g[t - 1][b], MC), MC);
        }
        s1[l.wRec() + a * H + b] = k1;
        BigDecimal k2 = BigDecimal.ZERO;
        for (int t = 1; t < T; t++) {
          for (int t2 = t + 1; t2 < T; t2++) {
            k2 = k2.add(g[t - 1][b].multiply(pw[t2 - t - 1][b][a], MC).multiply(o[t2][a], MC), MC);
          }
        }
        s2[l.wRec() + a * H + b] = k2.multiply(sq[l.wRec() + a * H + b], MC).multiply(BigDecimal.valueOf(2), MC);
      }
    }
  }
}
