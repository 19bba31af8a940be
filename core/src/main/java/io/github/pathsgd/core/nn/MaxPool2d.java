package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;

/**
 * Max pooling over k × k windows with stride s (no padding): {@code out[c, y, x] = max_{i,j} inp[c, y·s + i, x·s +
 * j]}; the gradient goes to the first maximum of the window (row-major order), found again from {@code inp} in
 * backward, so nothing is stored between the passes.
 *
 * <p>Path convention: a max-pooling node counts every path through any input of its window, as if each window edge
 * had weight 1 (|1|^p = 1 in the γ sweeps). This is the convention of the path-norm toolkit of Gonon, Brisebarre,
 * Riccietti and Gribonval ("A path-norm toolkit for modern networks: consequences, promises and challenges", ICLR
 * 2024), whose code replaces max-pooling by a convolution with weights constant equal to one for the path-norm. It
 * keeps φ_p an upper bound of what any single choice of maxima gives, it makes φ_p independent of the input (as for
 * the other layers), and it is invariant under the node-wise rescalings of the channels, because max commutes with a
 * positive scaling. It is a convention, not the exact path structure of one input: documented in
 * docs/conv-geometry.md.
 *
 * <pre>
 * inp is (B, C, H, W), out is (B, C, Ho, Wo)
 * </pre>
 */
public final class MaxPool2d extends Pool2d {
  public MaxPool2d(int channels, int height, int width, int k, int stride, int paramOffset) {
    super(channels, height, width, k, stride, paramOffset);
  }

  @Override
  double edgeWeight() {
    return 1.0;
  }

  /** The input index of the first maximum of window (b, ch, y, x). */
  private int argmax(FloatBuffer x, int b, int ch, int y, int xx) {
    int best = -1;
    float m = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        int at = b * in() + (ch * h + y * stride + i) * w + xx * stride + j;
        float v = x.get(at);
        if (best < 0 || v > m) {
          m = v;
          best = at;
        }
      }
    }
    return best;
  }

  @Override
  public void forward(Tensor out, Tensor inp, Tensor params, int B, float retain, Rng rng) {
    FloatBuffer x = inp.buffer();
    FloatBuffer o = out.buffer();
    for (int b = 0; b < B; b++) {
      for (int ch = 0; ch < c; ch++) {
        for (int y = 0; y < ho; y++) {
          for (int xx = 0; xx < wo; xx++) {
            o.put(b * out() + (ch * ho + y) * wo + xx, x.get(argmax(x, b, ch, y, xx)));
          }
        }
      }
    }
  }

  @Override
  public void backward(Tensor dinp, Tensor grads, Tensor dout, Tensor a, Tensor inp, Tensor params, int B,
      float retain) {
    if (dinp == null) {
      return;
    }
    clear(dinp, B);
    FloatBuffer x = inp.buffer();
    FloatBuffer d = dinp.buffer();
    FloatBuffer g = dout.buffer();
    for (int b = 0; b < B; b++) {
      for (int ch = 0; ch < c; ch++) {
        for (int y = 0; y < ho; y++) {
          for (int xx = 0; xx < wo; xx++) {
            int at = argmax(x, b, ch, y, xx);
            d.put(at, d.get(at) + g.get(b * out() + (ch * ho + y) * wo + xx));
          }
        }
      }
    }
  }
}
