package io.github.pathsgd.core.geometry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.nn.Conv2d;
import io.github.pathsgd.core.nn.Dense;
import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.MaxPool2d;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A conv → max-pool → dense network of {@link Layer}s: its gradient against central differences, and Path-SGD steps
 * (θ ← θ − η·v, v ← μ·v + ∇L ⊘ κ, κ from {@link LayerKappa}) that commute with a channel rescaling, with momentum and
 * dropout, for one and five steps; SGD steps do not.
 */
class LayerNetPathSgdTest {
  // 1×6×6 → conv 3 channels 3×3 pad 1 (ReLU) → max-pool 2 → 3×3×3 = 27 → dense 10 (linear)
  private static final Conv2d CONV = new Conv2d(1, 6, 6, 3, 3, 3, 1, 1, 0, true);
  private static final MaxPool2d POOL = new MaxPool2d(3, 6, 6, 2, 2, CONV.paramSize());
  private static final Dense OUT = new Dense(27, 10, CONV.paramSize(), false);
  private static final List<Layer> LAYERS = List.of(CONV, POOL, OUT);
  private static final int SIZE = CONV.paramSize() + OUT.paramSize();
  private static final int B = 8;

  private static Tensor params(long seed) {
    Random r = new Random(seed);
    Tensor p = new Tensor(SIZE);
    for (int i = 0; i < SIZE; i++) {
      p.set(i, (float) (r.nextGaussian() * 0.5));
    }
    return p;
  }

  private static float[] inputs() {
    Random r = new Random(11);
    float[] x = new float[B * 36];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextFloat();
    }
    return x;
  }

  private static final int[] LABELS = {0, 1, 2, 3, 4, 5, 6, 7};

  private static double loss(Tensor p, float[] x) {
    LayerNet net = new LayerNet(LAYERS, p);
    Network.Workspace ws = net.workspace(B);
    ws.input().buffer().put(0, x);
    return net.lossAndGradient(ws, B, LABELS, 0, new Tensor(SIZE), 1f, null).loss();
  }

  @Test
  void gradientMatchesCentralDifferences() {
    Tensor p = params(1);
    float[] x = inputs();
    LayerNet net = new LayerNet(LAYERS, p);
    Network.Workspace ws = net.workspace(B);
    ws.input().buffer().put(0, x);
    Tensor g = new Tensor(SIZE);
    net.lossAndGradient(ws, B, LABELS, 0, g, 1f, null);
    float eps = 2e-3f;
    int checked = 0;
    for (int t = 0; t < SIZE; t++) {
      float v = p.get(t);
      p.set(t, v + eps);
      double up = loss(p, x);
      p.set(t, v - eps);
      double down = loss(p, x);
      p.set(t, v);
      assertThat((double) g.get(t)).as("parameter %d", t).isCloseTo((up - down) / (2 * eps), within(2e-3));
      checked++;
    }
    assertThat(checked).isEqualTo(3 * 9 + 3 + 270 + 10);
  }

  /** Channel {@code ch} of the conv by c: its filter and bias ×c, the dense weights reading its 9 pooled units ×1/c. */
  private static Tensor rescale(Tensor p, int ch, float c) {
    Tensor q = new Tensor(SIZE);
    for (int i = 0; i < SIZE; i++) {
      q.set(i, p.get(i));
    }
    for (int i = 0; i < 9; i++) {
      q.set(CONV.weightOffset() + ch * 9 + i, p.get(CONV.weightOffset() + ch * 9 + i) * c);
    }
    q.set(CONV.biasOffset() + ch, p.get(CONV.biasOffset() + ch) * c);
    for (int o = 0; o < 10; o++) {
      for (int u = ch * 9; u < ch * 9 + 9; u++) {
        int at = OUT.weightOffset() + o * 27 + u;
        q.set(at, p.get(at) / c);
      }
    }
    return q;
  }

  /** K steps of Path-SGD (κ from LayerKappa) or SGD, momentum μ, dropout keep 0.5 with seeded masks. */
  private static Tensor steps(Tensor p0, int K, boolean path, Tensor vel0) {
    Tensor p = new Tensor(SIZE);
    for (int i = 0; i < SIZE; i++) {
      p.set(i, p0.get(i));
    }
    double[] v = new double[SIZE];
    double lr = 0.05;
    double mu = 0.9;
    float[] x = inputs();
    for (int s = 0; s < K; s++) {
      LayerNet net = new LayerNet(LAYERS, p);
      Network.Workspace ws = net.workspace(B);
      ws.input().buffer().put(0, x);
      Tensor g = new Tensor(SIZE);
      net.lossAndGradient(ws, B, LABELS, 0, g, 0.5f, new Rng(100 + s));
      double[] kappa = path ? LayerKappa.of(LAYERS, p, 2) : null;
      for (int i = 0; i < SIZE; i++) {
        double u = path ? g.get(i) / kappa[i] : g.get(i);
        v[i] = mu * v[i] + u;
        p.set(i, (float) (p.get(i) - lr * v[i]));
      }
    }
    return p;
  }

  @Test
  void pathSgdStepsCommuteWithAChannelRescalingAndSgdStepsDoNot() {
    Tensor p = params(2);
    float c = 4f; // a power of two: the rescaled network's arithmetic is exact, so the match is to float rounding
    Tensor q = rescale(p, 1, c);
    for (int K : new int[] {1, 5}) {
      Tensor a = rescale(steps(p, K, true, null), 1, c);
      Tensor b = steps(q, K, true, null);
      for (int i = 0; i < SIZE; i++) {
        assertThat((double) b.get(i)).as("Path-SGD, %d steps, parameter %d", K, i)
            .isCloseTo(a.get(i), within(1e-5 * Math.max(1, Math.abs(a.get(i)))));
      }
      Tensor sa = rescale(steps(p, K, false, null), 1, c);
      Tensor sb = steps(q, K, false, null);
      double worst = 0;
      for (int i = 0; i < SIZE; i++) {
        worst = Math.max(worst, Math.abs(sa.get(i) - sb.get(i)) / Math.max(1, Math.abs(sa.get(i))));
      }
      assertThat(worst).as("SGD, %d steps", K).isGreaterThan(1e-3);
    }
  }

  @Test
  void kappaOfTheRescaledNetworkMovesByTheSquareOfTheFactor() {
    Tensor p = params(3);
    double[] k = LayerKappa.of(LAYERS, p, 2);
    double[] kq = LayerKappa.of(LAYERS, rescale(p, 2, 8f), 2);
    // incoming weights and the bias of channel 2: κ ×1/64; the dense weights from it: κ ×64; the rest unchanged
    for (int i = 0; i < 9; i++) {
      assertThat(kq[CONV.weightOffset() + 18 + i]).isCloseTo(k[CONV.weightOffset() + 18 + i] / 64,
          within(1e-12 * k[CONV.weightOffset() + 18 + i]));
    }
    assertThat(kq[CONV.biasOffset() + 2]).isCloseTo(k[CONV.biasOffset() + 2] / 64,
        within(1e-12 * k[CONV.biasOffset() + 2]));
    int from = OUT.weightOffset() + 3 * 27 + 18;
    assertThat(kq[from]).isCloseTo(k[from] * 64, within(1e-9 * k[from] * 64));
    assertThat(kq[CONV.weightOffset()]).isCloseTo(k[CONV.weightOffset()], within(1e-12 * k[CONV.weightOffset()]));
    assertThat(PathNorms.phiPow(LAYERS, rescale(p, 2, 8f), 2)).isCloseTo(PathNorms.phiPow(LAYERS, p, 2),
        within(1e-9 * PathNorms.phiPow(LAYERS, p, 2)));
  }
}
