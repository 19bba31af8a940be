package io.github.pathsgd.core.geometry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.testkit.Tries;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The unbalanced initialization's densities (a fraction of each hidden layer, the default; an absolute count over all
 * hidden layers, the former behaviour), its documented rng consumption, and the refusal of results that overflow,
 * underflow or are not equivalent.
 */
class UnbalanceDensityTest {
  static final DenseChain LAY = new DenseChain(7, 32, 20, 6, 3);

  @Test
  void perLayerPicksRoundHalfUp() {
    Unbalance.PerLayer q = new Unbalance.PerLayer(0.25);
    assertThat(q.picks(new DenseChain(784, 4000, 4000, 10))).containsExactly(1000, 1000); // the demo's 2×4000
    assertThat(q.picks(new DenseChain(784, 32, 32, 10))).containsExactly(8, 8);
    // 0.25·6 = 1.5 → 2, 0.25·10 = 2.5 → 3, 0.25·2 = 0.5 → 1, 0.25·1 → 0
    assertThat(q.picks(new DenseChain(3, 6, 10, 2, 1, 4))).containsExactly(2, 3, 1, 0);
    assertThat(new Unbalance.PerLayer(1.0).picks(LAY)).containsExactly(32, 20, 6);
    assertThat(new Unbalance.PerLayer(0).picks(LAY)).containsExactly(0, 0, 0);
    assertThat(q.picks(new DenseChain(5, 3))).isEmpty();
    assertThatThrownBy(() -> new Unbalance.PerLayer(-0.1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Unbalance.PerLayer(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Unbalance.Total(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  /** Replays the documented draws (per layer l: k_l × {nextInt(n_l), nextGaussian}) and recounts the picks. */
  @Test
  void perLayerDensityMatchesABruteForceReplayOfTheRng() {
    LayerNet net = Init.balanced(LAY, new Rng(4));
    LayerNet original = net.copy();
    Rng rng = new Rng(5);
    double[][] f = Rescaling.unbalance(net, Unbalance.DEFAULT, rng);

    Rng replay = new Rng(5);
    LayerNet expected = original.copy();
    int[][] count = new int[LAY.layers()][];
    double[][] prod = new double[LAY.layers()][];
    int[] perLayer = new int[LAY.layers()];
    for (int l = 1; l < LAY.layers(); l++) {
      int n = LAY.width(l);
      count[l] = new int[n];
      prod[l] = new double[n];
      java.util.Arrays.fill(prod[l], 1.0);
      for (int k = 0; k < Math.round(0.25 * n); k++) {
        int v = replay.nextInt(n);
        double s = 10 * Math.exp(replay.nextGaussian());
        count[l][v]++;
        perLayer[l]++;
        prod[l][v] *= s;
        Rescaling.scaleUnit(expected, l, v, s);
      }
    }
    assertThat(perLayer).containsExactly(0, 8, 5, 2); // round(0.25·32), round(0.25·20), round(1.5)
    assertThat(rng.state()).as("no other draw").isEqualTo(replay.state());
    assertThat(rng.nextGaussian()).isEqualTo(replay.nextGaussian()); // the same cached polar half, too
    assertThat(f[0]).isNull();
    assertThat(f[LAY.layers()]).isNull();
    int touched = 0;
    for (int l = 1; l < LAY.layers(); l++) {
      assertThat(f[l]).containsExactly(prod[l]);
      for (int v = 0; v < LAY.width(l); v++) {
        assertThat(f[l][v] == 1.0).isEqualTo(count[l][v] == 0);
        touched += count[l][v] > 0 ? 1 : 0;
      }
    }
    assertThat(touched).isGreaterThan(10);
    assertThat(net.params().toArray()).containsExactly(expected.params().toArray());
  }

  /** The absolute count reproduces the former {@code unbalance} exactly: same draws, same order, same floats. */
  @Test
  void absoluteCountReproducesTheFormerBehaviourExactly() {
    for (DenseChain lay : new DenseChain[] {new DenseChain(30, 200, 200, 10), LAY}) {
      LayerNet a = Init.balanced(lay, new Rng(1));
      LayerNet b = a.copy();
      Rng ra = new Rng(2);
      Rng rb = new Rng(2);
      Rescaling.unbalance(a, Unbalance.total(2000), ra);
      formerUnbalance(b, 2000, Unbalance.FactorForm.TEN_TIMES_C, 0, 1, rb);
      assertThat(a.params().toArray()).containsExactly(b.params().toArray());
      assertThat(ra.state()).isEqualTo(rb.state());
    }
    LayerNet a = Init.balanced(LAY, new Rng(8));
    LayerNet b = a.copy();
    Rescaling.unbalance(a, new Unbalance(new Unbalance.Total(37), Unbalance.FactorForm.TEN_TO_THE_C, -0.5,
        0.5), new Rng(9));
    formerUnbalance(b, 37, Unbalance.FactorForm.TEN_TO_THE_C, -0.5, 0.5, new Rng(9));
    assertThat(a.params().toArray()).containsExactly(b.params().toArray());
  }

  /** The body of {@code Rescaling.unbalance} before the per-layer density (commit 9eab518), verbatim in effect. */
  static void formerUnbalance(LayerNet net, int count, Unbalance.FactorForm form, double mu, double sigma, Rng rng) {
    DenseChain lay = net.chain();
    int hidden = lay.hiddenUnits();
    for (int k = 0; k < count; k++) {
      int idx = rng.nextInt(hidden);
      double c = Math.exp(mu + sigma * rng.nextGaussian());
      double s = form == Unbalance.FactorForm.TEN_TIMES_C ? 10 * c : Math.pow(10, c);
      int layer = 1;
      while (idx >= lay.width(layer)) {
        idx -= lay.width(layer);
        layer++;
      }
      Rescaling.scaleUnit(net, layer, idx, s);
    }
  }

  @Test
  void theReturnedFactorsReproduceTheResultWithScaleAll() {
    LayerNet net = Init.balanced(LAY, new Rng(4));
    LayerNet original = net.copy();
    double[][] f = Rescaling.unbalanceChecked(net, Unbalance.perLayer(1.0), new Rng(6));
    LayerNet again = original.copy();
    Rescaling.scaleAll(again, f);
    assertCloseParams(again, net);
    // and the reciprocals map it back
    double[][] inv = new double[f.length][];
    for (int l = 1; l < LAY.layers(); l++) {
      inv[l] = new double[f[l].length];
      for (int v = 0; v < f[l].length; v++) {
        inv[l][v] = 1 / f[l][v];
      }
    }
    LayerNet back = net.copy();
    Rescaling.scaleAll(back, inv);
    assertCloseParams(back, original);
  }

  static void assertCloseParams(LayerNet a, LayerNet b) {
    float[] x = a.params().toArray();
    float[] y = b.params().toArray();
    for (int i = 0; i < x.length; i++) {
      assertThat(Math.abs(x[i] - y[i])).as("param %d: %s vs %s", i, x[i], y[i])
          .isLessThanOrEqualTo(1e-5f * Math.abs(y[i]));
    }
  }

  @Test
  void theDefaultOnTwoByThirtyTwoPassesTheCheck() {
    DenseChain lay = new DenseChain(784, 32, 32, 10);
    for (long seed = 1; seed <= 5; seed++) {
      LayerNet net = Init.balanced(lay, new Rng(seed).split("init"));
      LayerNet original = net.copy();
      Rng rng = new Rng(seed).split("unbalance");
      LayerNet plain = net.copy();
      double[][] f = Rescaling.unbalanceChecked(net, Unbalance.DEFAULT, rng);
      Rescaling.unbalance(plain, Unbalance.DEFAULT, new Rng(seed).split("unbalance"));
      assertThat(net.params().toArray()).containsExactly(plain.params().toArray()); // the check draws no picks
      Rescaling.Verification v = Rescaling.verify(original, net, f,
          Rescaling.randomInputs(784, 16, new Rng(seed + 100)), 16);
      assertThat(v.ok()).as(v.problem()).isTrue();
      assertThat(v.overflows()).isZero();
      assertThat(v.underflows()).isZero();
      assertThat(v.maxDifference()).isLessThanOrEqualTo(v.tolerance());
      assertThat(v.largestFactor()).isGreaterThan(1);
    }
  }

  /** The former default, 2000 picks over the 64 units of 2×32, overflows; it is refused and the net is left alone. */
  @Test
  void anAbsurdCountIsRefusedNamingTheLargestFactorAndLeavesTheNetworkAlone() {
    LayerNet net = Init.balanced(new DenseChain(784, 32, 32, 10), new Rng(1).split("init"));
    float[] before = net.params().toArray();
    Rescaling.Refused e = catchThrowableOfType(() -> Rescaling.unbalanceChecked(net, Unbalance.total(2000),
        new Rng(1).split("unbalance")), Rescaling.Refused.class);
    assertThat(e).isNotNull();
    assertThat(e.getMessage()).doesNotContain("\n")
        .startsWith("unbalanced rescaling (count 2000 over all hidden layers, factor 10c, mu 0, sigma 1) refused: ")
        .contains("weights/biases overflow to infinity").contains("largest factor")
        .contains("at hidden layer " + e.layer())
        .contains("unit " + e.unit() + " (of 32)");
    assertThat(e.layer()).isBetween(1, 2);
    assertThat(e.factor()).isGreaterThan(1e30);
    assertThat(net.params().toArray()).containsExactly(before);
  }

  @Test
  void hugeFactorsAreRefusedWhetherTheyOverflowFloatOrDouble() {
    DenseChain lay = new DenseChain(20, 32, 32, 10);
    // 10^c with c = e^4 ≈ 54.6: each factor ≈ 4e54, finite in double, far beyond float
    LayerNet a = Init.balanced(lay, new Rng(1));
    Rescaling.Refused e = catchThrowableOfType(() -> Rescaling.unbalanceChecked(a, new Unbalance(
        new Unbalance.PerLayer(0.25), Unbalance.FactorForm.TEN_TO_THE_C, 4, 0), new Rng(2)), Rescaling.Refused.class);
    assertThat(e.getMessage()).contains("factor 10^c").contains("largest factor ")
        .contains("hidden layer " + e.layer() + ", unit " + e.unit());
    assertThat(e.factor()).isGreaterThan(3.9e54);
    // c = e^6 ≈ 403: 10^403 is infinite even in double; refused before anything is applied
    LayerNet b = Init.balanced(lay, new Rng(1));
    float[] before = b.params().toArray();
    Rescaling.Refused g = catchThrowableOfType(() -> Rescaling.unbalance(b, new Unbalance(
        new Unbalance.PerLayer(0.25), Unbalance.FactorForm.TEN_TO_THE_C, 6, 0), new Rng(2)), Rescaling.Refused.class);
    assertThat(g.getMessage()).contains("pick 1 of 16").contains("hidden layer 1, unit " + g.unit() + " (of 32)")
        .contains("beyond the double range");
    assertThat(b.params().toArray()).containsExactly(before);
  }

  @Test
  void verifyFindsUnderflowNaNAndNonEquivalence() {
    DenseChain lay = new DenseChain(5, 4, 3, 2);
    LayerNet a = Init.balanced(lay, new Rng(3));
    double[][] ones = {null, {1, 1, 1, 1}, {1, 1, 1}, null};
    float[] x = Rescaling.randomInputs(5, 8, new Rng(4));
    assertThat(Rescaling.verify(a, a.copy(), ones, x, 8).ok()).isTrue();

    // the incoming weights of unit 2 of hidden layer 1 times 1e-40: subnormal (its outgoing ones left alone)
    LayerNet u = a.copy();
    for (int j = 0; j < 5; j++) {
      int i = lay.weightOffset(0) + 2 * 5 + j;
      u.params().set(i, (float) (u.params().get(i) * 1e-40));
    }
    double[][] f = {null, {1, 1, 1e-40, 1}, {1, 1, 1}, null};
    Rescaling.Verification vu = Rescaling.verify(a, u, f, x, 8);
    assertThat(vu.ok()).isFalse();
    assertThat(vu.underflows()).isEqualTo(5);
    assertThat(vu.overflows()).isZero();
    assertThat(vu.problem()).contains("5 weights/biases underflow to zero or a subnormal float")
        .contains("(first: layers.0.weight[2, 0] ").contains("net factor 1.00e-40)");

    LayerNet n = a.copy();
    n.params().set(lay.weightOffset(1) + 4, Float.NaN); // W_1[1][0]
    Rescaling.Verification vn = Rescaling.verify(a, n, ones, x, 8);
    assertThat(vn.overflows()).isEqualTo(1);
    assertThat(vn.problem()).contains("1 weights/biases overflow to infinity").contains("layers.1.weight[1, 0]");

    // a factor on one side only: finite, but not the same function
    LayerNet h = a.copy();
    for (int o = 0; o < 3; o++) {
      int i = lay.weightOffset(1) + o * 4 + 1;
      h.params().set(i, h.params().get(i) * 3);
    }
    Rescaling.Verification vh = Rescaling.verify(a, h, ones, x, 8);
    assertThat(vh.overflows() + vh.underflows()).isZero();
    if (vh.maxDifference() > 0) { // unit 1 may be dead on all 8 inputs
      assertThat(vh.ok()).isFalse();
      assertThat(vh.problem()).contains("the outputs on 8 random inputs differ by").contains("beyond the tolerance");
    }
    assertThat(vh.tolerance()).isGreaterThan(0);
  }

  /** One try: the seed and the two hidden widths, each 1..60. */
  record Widths(long seed, int w1, int w2) {
    List<Widths> smaller() {
      List<Widths> s = new ArrayList<>();
      Tries.toward(w1, 1).forEach(w -> s.add(new Widths(seed, w, w2)));
      Tries.toward(w2, 1).forEach(w -> s.add(new Widths(seed, w1, w)));
      return s;
    }
  }

  @Test
  void theDefaultDensityIsSafeAndReproducibleOnSmallNetworks() {
    List<Widths> edges = List.of(new Widths(0, 1, 1), new Widths(-1, 60, 60), new Widths(Long.MIN_VALUE, 1, 60),
        new Widths(Long.MAX_VALUE, 60, 1));
    Tries.forAll(25, 0x0B0A_0001L, edges, r -> new Widths(r.nextLong(), r.nextInt(1, 61), r.nextInt(1, 61)),
        Widths::smaller, c -> theDefaultDensityIsSafeAndReproducible(c.seed(), c.w1(), c.w2()));
  }

  private static void theDefaultDensityIsSafeAndReproducible(long seed, int w1, int w2) {
    DenseChain lay = new DenseChain(9, w1, w2, 4);
    LayerNet net = Init.balanced(lay, new Rng(seed));
    LayerNet original = net.copy();
    double[][] f = Rescaling.unbalanceChecked(net, Unbalance.DEFAULT, new Rng(seed + 1));
    LayerNet again = original.copy();
    Rescaling.scaleAll(again, f);
    assertCloseParams(again, net);
    LayerNet twice = original.copy();
    Rescaling.unbalanceChecked(twice, Unbalance.DEFAULT, new Rng(seed + 1));
    assertThat(twice.params().toArray()).containsExactly(net.params().toArray());
  }
}
