package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;

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
  @Override
  public String kind() {
    return "maxpool";
  }

  public MaxPool2d(int channels, int height, int width, int k, int stride, int paramOffset) {
    super(channels, height, width, k, stride, paramOffset);
  }

  @Override
  double edgeWeight() {
    return 1.0;
  }

  /** The input index of the first maximum of the window whose top-left input is {@code at0}. */
  private int argmax(float[] x, int at0) {
    int best = at0;
    float m = x[at0];
    for (int i = 0; i < k; i++) {
      int row = at0 + i * w;
      for (int j = 0; j < k; j++) {
        float v = x[row + j];
        if (v > m) {
          m = v;
          best = row + j;
        }
      }
    }
    return best;
  }

  /**
   * The window maxima ({@code Math.max}, so the value of the first maximum), on heap copies of the chunk in the step
   * scratch {@code scratch} ({@link #scratch}; null: made for the call).
   */
  @Override
  public void forward(Tensor out, Tensor inp, Tensor params, int B, float retain, Rng rng, Scratch scratch) {
    int chunk = chunk(B);
    Buffers sb = buffers(scratch, chunk);
    float[] x = sb.inA;
    float[] o = sb.outA;
    for (int b0 = 0; b0 < B; b0 += chunk) {
      int nb = Math.min(chunk, B - b0);
      inp.buffer().get(b0 * in(), x, 0, nb * in());
      int planes = nb * c;
      for (int pl = 0; pl < planes; pl++) {
        int ib = pl * h * w;
        int ob = pl * ho * wo;
        for (int y = 0; y < ho; y++) {
          int r0 = ib + y * stride * w;
          int orow = ob + y * wo;
          if (k == 2) {
            int r1 = r0 + w;
            for (int xx = 0; xx < wo; xx++) {
              int at = xx * stride;
              o[orow + xx] = Math.max(Math.max(x[r0 + at], x[r0 + at + 1]), Math.max(x[r1 + at], x[r1 + at + 1]));
            }
          } else {
            for (int xx = 0; xx < wo; xx++) {
              o[orow + xx] = x[argmax(x, r0 + xx * stride)];
            }
          }
        }
      }
      out.buffer().put(b0 * out(), o, 0, nb * out());
    }
  }

  /**
   * The error of every window to its first maximum, on heap copies of the chunk in the step scratch {@code scratch}.
   * When the windows tile the input (stride k, sizes multiples of k), every input is written once (the error or 0)
   * and 2 × 2 windows pick the maximum without branches.
   */
  @Override
  public void backward(Tensor dinp, Tensor grads, Tensor dout, Tensor a, Tensor inp, Tensor params, int B,
      float retain, Scratch scratch) {
    if (dinp == null) {
      return;
    }
    boolean tiles = tiles();
    int chunk = chunk(B);
    Buffers sb = buffers(scratch, chunk);
    float[] x = sb.inA;
    float[] g = sb.outA;
    float[] d = sb.dA;
    for (int b0 = 0; b0 < B; b0 += chunk) {
      int nb = Math.min(chunk, B - b0);
      inp.buffer().get(b0 * in(), x, 0, nb * in());
      dout.buffer().get(b0 * out(), g, 0, nb * out());
      if (!tiles) {
        java.util.Arrays.fill(d, 0, nb * in(), 0f);
      }
      int planes = nb * c;
      for (int pl = 0; pl < planes; pl++) {
        int ib = pl * h * w;
        int ob = pl * ho * wo;
        for (int y = 0; y < ho; y++) {
          int r0 = ib + y * stride * w;
          int orow = ob + y * wo;
          if (k == 2 && tiles) {
            int r1 = r0 + w;
            for (int xx = 0; xx < wo; xx++) {
              int at = xx * 2;
              float a0 = x[r0 + at];
              float a1 = x[r0 + at + 1];
              float a2 = x[r1 + at];
              float a3 = x[r1 + at + 1];
              // the first maximum in row-major order, by selects
              int s01 = a1 > a0 ? 1 : 0;
              int s23 = a3 > a2 ? 3 : 2;
              int sel = Math.max(a2, a3) > Math.max(a0, a1) ? s23 : s01;
              int gv = Float.floatToRawIntBits(g[orow + xx]);
              d[r0 + at] = Float.intBitsToFloat(gv & -(sel == 0 ? 1 : 0));
              d[r0 + at + 1] = Float.intBitsToFloat(gv & -(sel == 1 ? 1 : 0));
              d[r1 + at] = Float.intBitsToFloat(gv & -(sel == 2 ? 1 : 0));
              d[r1 + at + 1] = Float.intBitsToFloat(gv & -(sel == 3 ? 1 : 0));
            }
          } else if (tiles) {
            for (int xx = 0; xx < wo; xx++) {
              int at0 = r0 + xx * k;
              int best = argmax(x, at0);
              float gv = g[orow + xx];
              for (int i = 0; i < k; i++) {
                for (int j = 0; j < k; j++) {
                  int at = at0 + i * w + j;
                  d[at] = at == best ? gv : 0f;
                }
              }
            }
          } else {
            for (int xx = 0; xx < wo; xx++) {
              int at = argmax(x, r0 + xx * stride);
              d[at] += g[orow + xx];
            }
          }
        }
      }
      dinp.buffer().put(b0 * in(), d, 0, nb * in());
    }
  }
}
