package io.github.pathsgd.core.step;

import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.LayerSpec;
import io.github.pathsgd.core.util.Rng;
import java.util.Random;

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
}
