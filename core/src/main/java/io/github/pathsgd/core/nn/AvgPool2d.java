package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;

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
  public AvgPool2d(int channels, int height, int width, int k, int stride, int paramOffset) {
    super(channels, height, width, k, stride, paramOffset);
  }

  @Override
  double edgeWeight() {
    return 1.0 / (k * k);
  }

  @Override
  public void forward(Tensor out, Tensor inp, Tensor params, int B, float retain, Rng rng) {
    FloatBuffer x = inp.buffer();
    FloatBuffer o = out.buffer();
    float wgt = 1f / (k * k);
    for (int b = 0; b < B; b++) {
      for (int ch = 0; ch < c; ch++) {
        for (int y = 0; y < ho; y++) {
          for (int xx = 0; xx < wo; xx++) {
            float s = 0;
            for (int i = 0; i < k; i++) {
              for (int j = 0; j < k; j++) {
                s += x.get(b * in() + (ch * h + y * stride + i) * w + xx * stride + j);
              }
            }
            o.put(b * out() + (ch * ho + y) * wo + xx, s * wgt);
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
    FloatBuffer d = dinp.buffer();
    FloatBuffer g = dout.buffer();
    float wgt = 1f / (k * k);
    for (int b = 0; b < B; b++) {
      for (int ch = 0; ch < c; ch++) {
        for (int y = 0; y < ho; y++) {
          for (int xx = 0; xx < wo; xx++) {
            float t = g.get(b * out() + (ch * ho + y) * wo + xx) * wgt;
            for (int i = 0; i < k; i++) {
              for (int j = 0; j < k; j++) {
                int at = b * in() + (ch * h + y * stride + i) * w + xx * stride + j;
                d.put(at, d.get(at) + t);
              }
            }
          }
        }
      }
    }
  }
}
