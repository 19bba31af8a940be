package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;

/**
 * Average pooling over k × k windows with stride s (no padding): {@code out[c, y, x] = (1/k²) Σ_{i,j} inp[c, y·s + i,
 * x·s + j]}. A linear layer with fixed weights 1/k²: in the path sweeps every window edge has weight 1/k², so its
 * p-th power (1/k²)^p enters γ. No activation of its own (the layer before it applied ReLU; average pooling of ReLU
 * outputs keeps the network positively homogeneous in each channel).
 *
 * <pre>
 * inp is (B, C, H, W), out is (B, C, Ho, Wo)
 * </pre>
 */
public final class AvgPool2d extends Pool2d {
  @Override
  public String kind() {
    return "avgpool";
  }

  public AvgPool2d(int channels, int height, int width, int k, int stride, int paramOffset) {
    super(channels, height, width, k, stride, paramOffset);
  }

  @Override
  double edgeWeight() {
    return 1.0 / (k * k);
  }

  /** {@link #forward(Tensor, Tensor, Tensor, int, float, Rng)} on the step scratch {@code scratch} ({@link #scratch}). */
  @Override
  public void forward(Tensor out, Tensor inp, Tensor params, int B, float retain, Rng rng, Scratch scratch) {
    int chunk = chunk(B);
    Buffers sb = buffers(scratch, chunk);
    float[] x = sb.inA;
    float[] o = sb.outA;
    float wgt = 1f / (k * k);
    for (int b0 = 0; b0 < B; b0 += chunk) {
      int nb = Math.min(chunk, B - b0);
      inp.buffer().get(b0 * in(), x, 0, nb * in());
      int planes = nb * c;
      for (int pl = 0; pl < planes; pl++) {
        int ib = pl * h * w;
        int ob = pl * ho * wo;
        for (int y = 0; y < ho; y++) {
          int r0 = ib + y * stride * w;
          for (int xx = 0; xx < wo; xx++) {
            int at0 = r0 + xx * stride;
            float s = 0;
            for (int i = 0; i < k; i++) {
              int row = at0 + i * w;
              for (int j = 0; j < k; j++) {
                s += x[row + j];
              }
            }
            o[ob + y * wo + xx] = s * wgt;
          }
        }
      }
      out.buffer().put(b0 * out(), o, 0, nb * out());
    }
  }

  /**
   * On heap copies of the chunk in the step scratch {@code scratch}; when the windows tile the input, every input is
   * written once.
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
    float[] g = sb.outA;
    float[] d = sb.dA;
    float wgt = 1f / (k * k);
    for (int b0 = 0; b0 < B; b0 += chunk) {
      int nb = Math.min(chunk, B - b0);
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
          for (int xx = 0; xx < wo; xx++) {
            float t = g[ob + y * wo + xx] * wgt;
            int at0 = r0 + xx * stride;
            for (int i = 0; i < k; i++) {
              int row = at0 + i * w;
              for (int j = 0; j < k; j++) {
                d[row + j] = tiles ? t : d[row + j] + t;
              }
            }
          }
        }
      }
      dinp.buffer().put(b0 * in(), d, 0, nb * in());
    }
  }
}
