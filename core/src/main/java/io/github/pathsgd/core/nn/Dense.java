package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * A fully connected layer with bias, followed by ReLU and inverted dropout when it is a hidden layer, linear when it
 * is the output layer: {@code out = relu(inp · Wᵀ + b)}, W (out, in) row-major at its {@link DenseChain} offset, b
 * (out) after it. The kernels are those of {@link Layers}.
 */
public final class Dense implements Layer {
  private final int in;
  private final int out;
  private final int wOff;
  private final int bOff;
  private final boolean relu;

  /** Layer l of {@code layout}; ReLU unless it is the last. */
  public Dense(DenseChain layout, int l) {
    this(layout.in(l), layout.out(l), layout.weightOffset(l), l < layout.layers() - 1);
  }

  /** An {@code in → out} layer with W at {@code paramOffset} and b after it; ReLU and dropout when {@code hidden}. */
  public Dense(int in, int out, int paramOffset, boolean hidden) {
    if (in < 1 || out < 1 || paramOffset < 0) {
      throw new IllegalArgumentException("Dense: widths must be positive and the offset non-negative, got " + in
          + " -> " + out + " at " + paramOffset);
    }
    this.in = in;
    this.out = out;
    this.wOff = paramOffset;
    this.bOff = Math.addExact(paramOffset, Math.multiplyExact(in, out));
    this.relu = hidden;
  }

  /** The layers of {@code layout}, in order. */
  public static Dense[] of(DenseChain layout) {
    Dense[] d = new Dense[layout.layers()];
    for (int l = 0; l < d.length; l++) {
      d[l] = new Dense(layout, l);
    }
    return d;
  }

  @Override
  public int in() {
    return in;
  }

  @Override
  public int out() {
    return out;
  }

  @Override
  public int paramOffset() {
    return wOff;
  }

  @Override
  public int paramSize() {
    return in * out + out;
  }

  public int weightOffset() {
    return wOff;
  }

  @Override
  public String kind() {
    return "dense";
  }

  /** W (out, in) row-major, then b (out): a chain of dense layers is a {@link DenseChain}. */
  @Override
  public boolean fullyConnected() {
    return true;
  }

  /** W [out, in] (fan-in in), then b [out]. */
  @Override
  public List<ParamSlice> paramSlices() {
    return List.of(ParamSlice.weight(wOff, in, out, in), ParamSlice.bias(bOff, out));
  }

  @Override
  public double spectralNorm(FloatBuffer params) {
    return io.github.pathsgd.core.tensor.SpectralNorm.of(params, wOff, out, in);
  }

  /** Input channel ch spans inputs [ch·in/channels, +in/channels) of every row of W. */
  @Override
  public void inputChannelRanges(int ch, int channels, Ranges ranges) {
    int positions = in / channels;
    for (int o = 0; o < out; o++) {
      ranges.accept(wOff + o * in + ch * positions, positions);
    }
  }

  public int biasOffset() {
    return bOff;
  }

  /** Whether ReLU and dropout follow the affine map (a hidden layer). */
  @Override
  public boolean relu() {
    return relu;
  }

  @Override
  public void forward(Tensor z, Tensor inp, Tensor params, int B, float retain, Rng rng) {
    Layers.linearForward(z, inp, params, wOff, B, in, out);
    if (relu) {
      Layers.biasReluDropoutForward(z, params, bOff, B, out, retain, rng);
    } else {
      Layers.biasForward(z, params, bOff, B, out);
    }
  }

  @Override
  public void backward(Tensor dinp, Tensor grads, Tensor dout, Tensor a, Tensor inp, Tensor params, int B,
      float retain) {
    if (relu) {
      Layers.reluDropoutBackward(dout, a, B, out, retain);
    }
    Layers.linearBackward(dinp, grads, wOff, bOff, dout, inp, params, B, in, out);
  }

  @Override
  public void gammaForward(FloatBuffer w, double[] prev, double[] next, double p, boolean includeBiases) {
    boolean inf = Double.isInfinite(p);
    for (int o = 0; o < out; o++) {
      double acc = includeBiases ? powAbs(w.get(bOff + o), p) : 0;
      int row = wOff + o * in;
      for (int i = 0; i < in; i++) {
        double t = powAbs(w.get(row + i), p) * prev[i];
        acc = inf ? Math.max(acc, t) : acc + t;
      }
      next[o] = acc;
    }
  }

  @Override
  public void gammaBackward(FloatBuffer w, double[] next, double[] prev, double p) {
    boolean inf = Double.isInfinite(p);
    java.util.Arrays.fill(prev, 0, in, 0.0);
    for (int o = 0; o < out; o++) {
      int row = wOff + o * in;
      double s = next[o];
      for (int i = 0; i < in; i++) {
        double t = powAbs(w.get(row + i), p) * s;
        prev[i] = inf ? Math.max(prev[i], t) : prev[i] + t;
      }
    }
  }

  @Override
  public void kappa(double[] gin, double[] gout, double p, double[] k) {
    double e = 2.0 / p;
    for (int o = 0; o < out; o++) {
      double go = gout[o];
      int row = wOff + o * in;
      if (e == 1) { // p = 2: pow(x, 1) is x
        for (int i = 0; i < in; i++) {
          k[row + i] = gin[i] * go;
        }
      } else {
        for (int i = 0; i < in; i++) {
          k[row + i] = Math.pow(gin[i] * go, e);
        }
      }
      k[bOff + o] = e == 1 ? go : Math.pow(go, e);
    }
  }

  /** |x|^p with the common integer exponents done by multiplication; p = ∞ gives |x|. */
  public static double powAbs(double x, double p) {
    double a = Math.abs(x);
    if (p == 2) {
      return a * a;
    }
    if (p == 1 || Double.isInfinite(p)) {
      return a;
    }
    if (p == 3) {
      return a * a * a;
    }
    if (p == 4) {
      double a2 = a * a;
      return a2 * a2;
    }
    return Math.pow(a, p);
  }
}
