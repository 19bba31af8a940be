package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.rnn.RnnCell;
import io.github.pathsgd.core.rnn.RnnGeometry;
import io.github.pathsgd.core.rnn.RnnKappa;
import io.github.pathsgd.core.rnn.RnnLayout;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * A single-layer ReLU recurrent network as one layer of a {@link LayerNet} (the {@code rnn(H)} item of {@link
 * LayerSpec}; docs/rnn.md): it reads a row of T·F inputs, the sequence (T, F) row-major, runs h_t = ReLU(W_in x_t +
 * W_rec h_{t−1} + b) from h_0 = 0 and outputs h_T (H units), which the layers after it read (the output layer reads only
 * h_T). Forward and backpropagation through time run on {@link RnnCell}'s GEMMs; the cell's scratch (T·B·(F + 2H)
 * floats) is one per thread, made on a thread's first pass and grown for a larger batch. Dropout, when on, applies to
 * h_T (the units the next layer reads), not inside the recurrence. It must read the network input
 * (it is the first layer): its backward gives no error for its input, and its κ assumes γ_in = 1 there.
 *
 * <p>Parameters, in this order, with PyTorch's {@code nn.RNN} names: {@code weight_ih_l0} [H, F], {@code
 * weight_hh_l0} [H, H] (W_rec[a, b] from unit b at t − 1 to unit a at t) and {@code bias_hh_l0} [H] (one bias, where
 * PyTorch has {@code bias_ih_l0} + {@code bias_hh_l0}: their sum). Path geometry: γ over the unrolled network (max-plus
 * for p = ∞) in plain double (it leaves the double range for long sequences and large W_rec: docs/rnn.md); κ of W_in,
 * W_rec and b by {@link RnnGeometry} (extended range, then rounded to double), κ^(1) alone or κ^(1) + κ^(2) ({@code
 * rnn(H,kappa2)}), with everything after h_T summarized by γ_out of h_T; bias paths always counted. Node rescaling:
 * hidden unit j is one group (row j of every slice ×c, column j of W_rec ×1/c: {@link #recurrentRanges}, and the next
 * layer's weights reading j ×1/c).
 */
public final class Recurrent implements Layer {
  private final int steps;
  private final int features;
  private final int hidden;
  private final int paramOffset;
  private final boolean kappa2;
  private final RnnLayout layout; // (F, H, 1): the offsets of W_in, W_rec, b from paramOffset; W_out is not read
  private final ThreadLocal<Scratch> scratch = new ThreadLocal<>();

  private final class Scratch {
    RnnCell cell;
    final double[] ain = new double[hidden * features]; // |W_in|^p
    final double[] arec = new double[hidden * hidden]; // |W_rec|^p
    final double[] ab = new double[hidden];
    final double[] cur = new double[hidden];
    final double[] prev = new double[hidden];
    final double[] w = new double[geometryLayout().size()];
    RnnGeometry geometry;

    RnnCell cell(int B) {
      if (cell == null || cell.maxBatch() < B) {
        cell = new RnnCell(layout, steps, B);
      }
      return cell;
    }

    RnnGeometry geometry(double p) {
      if (geometry == null || geometry.p() != p) {
        geometry = new RnnGeometry(geometryLayout(), steps, p);
      }
      return geometry;
    }
  }

  /**
   * An RNN over sequences of {@code steps} steps of {@code features} inputs with {@code hidden} units, its parameters
   * from {@code paramOffset}; {@code kappa2}: Path-SGD's κ adds the cross term κ^(2) (p = 1 or 2 only).
   */
  public Recurrent(int steps, int features, int hidden, int paramOffset, boolean kappa2) {
    if (steps < 1 || features < 1 || hidden < 1 || paramOffset < 0) {
      throw new IllegalArgumentException("rnn: steps, features and hidden units must be positive, got steps=" + steps
          + " features=" + features + " hidden=" + hidden);
    }
    long in = (long) steps * features;
    if (in > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("rnn: " + in + " inputs per row exceed an int index");
    }
    this.steps = steps;
    this.features = features;
    this.hidden = hidden;
    this.paramOffset = paramOffset;
    this.kappa2 = kappa2;
    this.layout = new RnnLayout(features, hidden, 1);
  }

  private RnnLayout geometryLayout() {
    return layout;
  }

  private Scratch scratch() {
    Scratch s = scratch.get();
    if (s == null) {
      s = new Scratch();
      scratch.set(s);
    }
    return s;
  }

  /** The time steps T. */
  public int steps() {
    return steps;
  }

  /** The features per step F. */
  public int features() {
    return features;
  }

  /** Whether κ includes the cross term κ^(2). */
  public boolean kappa2() {
    return kappa2;
  }

  @Override
  public String kind() {
    return "rnn";
  }

  @Override
  public List<ParamSlice> paramSlices() {
    int o = paramOffset;
    return List.of(new ParamSlice("weight_ih_l0", o + layout.wIn(), new int[] {hidden, features}, features),
        new ParamSlice("weight_hh_l0", o + layout.wRec(), new int[] {hidden, hidden}, hidden),
        new ParamSlice("bias_hh_l0", o + layout.b(), new int[] {hidden}, 0));
  }

  @Override
  public boolean relu() {
    return true;
  }

  @Override
  public void recurrentRanges(int ch, Ranges ranges) {
    for (int a = 0; a < hidden; a++) {
      ranges.accept(paramOffset + layout.wRec() + a * hidden + ch, 1);
    }
  }

  /** Not defined for a layer unrolled over time (the network's product of spectral norms reads NaN). */
  @Override
  public double spectralNorm(FloatBuffer params) {
    return Double.NaN;
  }

  @Override
  public int in() {
    return steps * features;
  }

  @Override
  public int out() {
    return hidden;
  }

  @Override
  public int paramOffset() {
    return paramOffset;
  }

  @Override
  public int paramSize() {
    return layout.b() + hidden;
  }

  @Override
  public void forward(Tensor out, Tensor inp, Tensor params, int B, float retain, Rng rng) {
    scratch().cell(B).forwardHidden(inp, 0, B, params, paramOffset, out, 0);
    if (retain < 1f) { // inverted dropout on h_T, the units the next layer reads (not inside the recurrence)
      Layers.dropoutForward(out, B, hidden, retain, rng);
    }
  }

  @Override
  public void backward(Tensor dinp, Tensor grads, Tensor dout, Tensor out, Tensor inp, Tensor params, int B,
      float retain) {
    if (dinp != null) {
      throw new IllegalArgumentException("rnn: the layer must read the network input (it gives no error for its "
          + "input); put rnn(H) first");
    }
    if (retain < 1f) { // d·[out > 0]/r: the dropout mask (the cell applies the ReLU's)
      Layers.reluDropoutBackward(dout, out, B, hidden, retain);
    }
    grads.fill(paramOffset, paramSize(), 0f);
    scratch().cell(B).backwardHidden(dout, 0, params, paramOffset, grads);
  }

  private void powers(FloatBuffer params, double p, Scratch s) {
    boolean inf = Double.isInfinite(p);
    int o = paramOffset;
    for (int i = 0; i < s.ain.length; i++) {
      s.ain[i] = pow(params.get(o + layout.wIn() + i), p, inf);
    }
    for (int i = 0; i < s.arec.length; i++) {
      s.arec[i] = pow(params.get(o + layout.wRec() + i), p, inf);
    }
    for (int i = 0; i < hidden; i++) {
      s.ab[i] = pow(params.get(o + layout.b() + i), p, inf);
    }
  }

  private static double pow(float w, double p, boolean inf) {
    double a = Math.abs((double) w);
    return inf ? a : p == 1 ? a : p == 2 ? a * a : Math.pow(a, p);
  }

  /** g_t = a_t + A_rec g_{t−1} (max-plus for p = ∞), a_t[j] = Σ_i A_in[j, i]·γ_in(x_t[i]) (+ |b_j|^p); out g_T. */
  @Override
  public void gammaForward(FloatBuffer params, double[] gIn, double[] gOut, double p, boolean includeBiases) {
    Scratch s = scratch();
    powers(params, p, s);
    boolean inf = Double.isInfinite(p);
    double[] prev = s.prev;
    double[] cur = s.cur;
    for (int t = 0; t < steps; t++) {
      for (int j = 0; j < hidden; j++) {
        double v = includeBiases ? s.ab[j] : 0;
        int row = j * features;
        for (int i = 0; i < features; i++) {
          double e = s.ain[row + i] * gIn[t * features + i];
          v = inf ? Math.max(v, e) : v + e;
        }
        if (t > 0) {
          int r = j * hidden;
          for (int k = 0; k < hidden; k++) {
            double e = s.arec[r + k] * prev[k];
            v = inf ? Math.max(v, e) : v + e;
          }
        }
        cur[j] = v;
      }
      double[] x = prev;
      prev = cur;
      cur = x;
    }
    System.arraycopy(prev, 0, gOut, 0, hidden);
  }

  /** o_T = γ_out(h_T), o_t = A_recᵀ o_{t+1}; γ_out(x_t[i]) = Σ_j A_in[j, i]·o_t[j] (max-plus for p = ∞). */
  @Override
  public void gammaBackward(FloatBuffer params, double[] gOut, double[] gIn, double p) {
    Scratch s = scratch();
    powers(params, p, s);
    boolean inf = Double.isInfinite(p);
    double[] o = s.prev;
    double[] next = s.cur;
    System.arraycopy(gOut, 0, o, 0, hidden);
    for (int t = steps - 1; t >= 0; t--) {
      for (int i = 0; i < features; i++) {
        double v = 0;
        for (int j = 0; j < hidden; j++) {
          double e = s.ain[j * features + i] * o[j];
          v = inf ? Math.max(v, e) : v + e;
        }
        gIn[t * features + i] = v;
      }
      if (t > 0) {
        java.util.Arrays.fill(next, 0.0);
        for (int a = 0; a < hidden; a++) {
          int r = a * hidden;
          for (int b = 0; b < hidden; b++) {
            double e = s.arec[r + b] * o[a];
            next[b] = inf ? Math.max(next[b], e) : next[b] + e;
          }
        }
        double[] x = o;
        o = next;
        next = x;
      }
    }
  }

  @Override
  public void kappa(double[] gIn, double[] gOut, double p, double[] kappa) {
    throw new UnsupportedOperationException("rnn: κ needs the parameters (kappa(params, ...))");
  }

  /**
   * κ of W_in, W_rec and b by {@link RnnGeometry}: the network after h_T enters as one output unit reading h_T[j]
   * through the weight γ_out(h_T[j])^{1/p}, so that its out-norm at step T is γ_out(h_T[j]); κ^(2) when the layer was
   * built with it. Refuses p = ∞, κ^(2) for p ∉ {1, 2}, and an input whose γ_in is not 1 (the layer is not first).
   */
  @Override
  public void kappa(FloatBuffer params, double[] gIn, double[] gOut, double p, double[] kappa) {
    if (Double.isInfinite(p)) {
      throw new IllegalArgumentException("rnn: Path-SGD with p = ∞ is not implemented for the rnn layer; expected p "
          + "in [1, ∞)");
    }
    if (kappa2 && p != 1 && p != 2) {
      throw new IllegalArgumentException("rnn: κ^(2) (rnn(H,kappa2)) is implemented for p = 1 and 2 only, got p = "
          + p);
    }
    for (int i = 0; i < in(); i++) {
      if (gIn[i] != 1.0) {
        throw new IllegalArgumentException("rnn: κ needs the layer to read the network input (γ_in = 1), got γ_in = "
            + gIn[i] + " at input " + i + "; put rnn(H) first");
      }
    }
    Scratch s = scratch();
    double[] w = s.w;
    int n = paramSize();
    for (int i = 0; i < n; i++) {
      w[i] = params.get(paramOffset + i);
    }
    for (int j = 0; j < hidden; j++) {
      w[layout.wOut() + j] = p == 1 ? gOut[j] : p == 2 ? Math.sqrt(gOut[j]) : Math.pow(gOut[j], 1 / p);
    }
    w[layout.bOut()] = 0;
    RnnKappa k = s.geometry(p).kappa(w, kappa2);
    for (int i = 0; i < n; i++) {
      kappa[paramOffset + i] = k.kappa(i, kappa2);
    }
  }
}
