package io.github.pathsgd.core.step;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.geometry.PathNorms;
import io.github.pathsgd.core.geometry.RescalingGroups;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.LayerSpec;
import io.github.pathsgd.core.util.Rng;
import java.util.Random;
import java.util.SplittableRandom;

/** The tiny residual nets of the rescaling tests: 2x6x6 inputs, 4 classes, batches of {@link #B}. */
final class TinyResidualNets {
  static final int B = 6;
  static final int[] LABELS = {0, 1, 2, 3, 1, 0};

  private TinyResidualNets() {}

  /** {@code spec} for 2x6x6 inputs and 4 classes, balanced init, zero biases drawn non-zero so they rescale too. */
  static LayerNet net(LayerSpec spec, long seed) {
    LayerNet n = spec.build(2, 6, 6, 4);
    Init.balanced(n, new Rng(seed));
    Random r = new Random(seed);
    for (int i = 0; i < n.params().size(); i++) {
      if (n.params().get(i) == 0f) {
        n.params().set(i, (float) (r.nextGaussian() * 0.1));
      }
    }
    return n;
  }

  /** A fixed batch of {@link #B} Gaussian inputs. */
  static float[] inputs() {
    Random r = new Random(11);
    float[] x = new float[B * 72];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    return x;
  }

  /** The logits of a batch, without dropout. */
  static float[] logits(LayerNet n, float[] x) {
    LayerNet.Workspace ws = n.workspace(B);
    ws.input().copyFrom(x, 0, 0, x.length);
    return n.forward(ws, B, 1f, null).toArray(0, B * n.outputs());
  }

  /**
   * Rescales a random subset of {@code a}'s groups of {@link RescalingGroups} in a copy, by random factors drawn from
   * {@code seed}, and asserts that the logits on {@code x} and φ_p (p = 1, 2, 3, ∞) are those of {@code a}; returns
   * the copy and how many groups it rescaled.
   */
  static Rescaled assertUnchangedUnderRandomGroupRescalings(LayerNet a, float[] x, long seed) {
    LayerNet b = a.copy();
    RescalingGroups g = RescalingGroups.of(b.layers());
    SplittableRandom r = new SplittableRandom(seed);
    int scaled = 0;
    for (RescalingGroups.Family f : g.families()) {
      for (int ch = 0; ch < f.channels(); ch++) {
        if (r.nextBoolean()) {
          g.scale(b.params().buffer(), f.flat(), ch, Math.exp(2 * r.nextGaussian()));
          scaled++;
        }
      }
    }
    float[] fa = logits(a, x);
    float[] fb = logits(b, x);
    double m = 0;
    for (float v : fa) {
      m = Math.max(m, Math.abs(v));
    }
    for (int i = 0; i < fa.length; i++) {
      assertThat((double) fb[i]).as("logit %d of %d groups rescaled", i, scaled).isCloseTo(fa[i], within(1e-5 * m));
    }
    for (double p : new double[] {1, 2, 3, Double.POSITIVE_INFINITY}) {
      double pa = PathNorms.phi(a.layers(), a.params(), p, true);
      assertThat(PathNorms.phi(b.layers(), b.params(), p, true)).as("phi_%s", p).isCloseTo(pa, within(1e-5 * pa));
    }
    return new Rescaled(b, scaled);
  }

  /** A rescaled copy and the number of groups rescaled. */
  record Rescaled(LayerNet net, int groups) {}
}
