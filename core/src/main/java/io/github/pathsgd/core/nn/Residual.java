package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A residual block with an identity skip, {@code y = relu(x + F(x))} followed by (inverted) dropout, where F is a
 * chain of layers whose last one is linear (no ReLU): in the path picture every unit x_i has an edge of fixed weight 1
 * to y_i beside the paths through F.
 *
 * <ul>
 *   <li>Backward accumulates, as llm.c's {@code residual_backward}: dL/dx = dL/dz + F'(x)ᵀ·dL/dz, z = x + F(x).
 *   <li>γ forward: γ_in(y_i) = γ_in through F (its weights and biases) + γ_in(x_i) (max for p = ∞): the skip edge
 *       contributes |1|^p·γ_in(x_i). γ backward likewise: γ_out(x_i) = γ_out back through F + γ_out(y_i).
 *   <li>κ of F's parameters: each inner layer's own κ with γ_in forwarded into F from γ_in(x) and γ_out sent back
 *       into F from γ_out(y); the skip has no parameter.
 *   <li>Rescaling: the units at the two ends of an identity skip can only be rescaled together (the weight 1 stays
 *       1), so a node rescaling of y alone, or of the unit before the block alone, is refused ({@link
 *       #inputChannelRanges}); F's hidden units rescale freely.
 * </ul>
 *
 * Parameters: F's layers' slices in order, named {@code f.{j}.weight} / {@code f.{j}.bias}, j counting F's layers with
 * parameters (as a PyTorch module holding {@code self.f = nn.ModuleList([...])} names them). Scratch for F's
 * activations lives in the block and grows with the batch, as {@link Conv2d}'s does (one thread per network).
 */
public final class Residual implements Layer {
  private final List<Layer> f;
  private final int width;
  private final int offset;
  private final int size;
  private Tensor[] acts = new Tensor[0]; // F's inner boundaries 1..n-1 and its output n, (B, width of boundary)
  private Tensor[] deltas = new Tensor[0];
  private Tensor dF;
  private int capB;

  /**
   * A block over {@code f} (consecutive widths agreeing, in = out, the last layer linear, the parameters contiguous).
   */
  public Residual(List<Layer> f) {
    if (f.isEmpty()) {
      throw new IllegalArgumentException("res: F needs at least one layer");
    }
    Layer last = f.get(f.size() - 1);
    if (last.relu()) {
      throw new IllegalArgumentException("res: F's last layer (" + last.kind() + ") must be linear: the ReLU comes "
          + "after the addition");
    }
    if (f.get(0).in() != last.out()) {
      throw new IllegalArgumentException("res: an identity skip needs F to keep the width, got " + f.get(0).in()
          + " -> " + last.out());
    }
    int at = f.get(0).paramOffset();
    for (int k = 0; k < f.size(); k++) {
      Layer l = f.get(k);
      if (k > 0 && f.get(k - 1).out() != l.in()) {
        throw new IllegalArgumentException("res: layer " + k + " of F (" + l.kind() + ") takes " + l.in()
            + " inputs but layer " + (k - 1) + " gives " + f.get(k - 1).out());
      }
      if (l.paramSize() > 0) {
        if (l.paramOffset() != at) {
          throw new IllegalArgumentException("res: F's parameters must be contiguous; layer " + k + " starts at "
              + l.paramOffset() + ", expected " + at);
        }
        at += l.paramSize();
      }
    }
    this.f = List.copyOf(f);
    this.width = last.out();
    this.offset = f.get(0).paramOffset();
    this.size = at - offset;
  }

  /** F's layers, in order. */
  public List<Layer> inner() {
    return f;
  }

  @Override
  public String kind() {
    return "res";
  }

  @Override
  public List<ParamSlice> paramSlices() {
    List<ParamSlice> out = new ArrayList<>();
    int j = 0;
    for (Layer l : f) {
      if (l.paramSize() == 0) {
        continue;
      }
      for (ParamSlice s : l.paramSlices()) {
        out.add(new ParamSlice("f." + j + "." + s.name(), s.offset(), s.shape(), s.fanIn()));
      }
      j++;
    }
    return out;
  }

  /** F's layers with parameters, in order (one per {@code f.{j}} pair of slices). */
  @Override
  public List<Layer> parts() {
    return f.stream().filter(l -> l.paramSize() > 0).toList();
  }

  /** Refused: a unit that feeds an identity skip is tied to the unit the skip reaches (the weight 1 stays 1). */
  @Override
  public void inputChannelRanges(int ch, int channels, Ranges ranges) {
    throw new IllegalArgumentException("res: input unit " + ch + " of a residual block is tied to its output "
        + "unit by the identity skip; they rescale together (not supported yet)");
  }

  /**
   * 1 + Π‖W_k‖₂ over F's layers with weights: the usual bound on the block's Lipschitz constant (the skip has norm 1,
   * ReLU is 1-Lipschitz), which is what a product of layer norms becomes for x ↦ relu(x + F(x)); not ‖·‖₂ of a matrix.
   */
  @Override
  public double spectralNorm(FloatBuffer params) {
    double prod = 1;
    for (Layer l : f) {
      if (l.paramSize() > 0) {
        prod *= l.spectralNorm(params);
      }
    }
    return 1 + prod;
  }

  @Override
  public int in() {
    return width;
  }

  @Override
  public int out() {
    return width;
  }

  @Override
  public int paramOffset() {
    return offset;
  }

  @Override
  public int paramSize() {
    return size;
  }

  private void ensure(int B) {
    if (B <= capB) {
      return;
    }
    int n = f.size();
    acts = new Tensor[n + 1];
    deltas = new Tensor[n + 1];
    for (int k = 1; k <= n; k++) {
      acts[k] = new Tensor(Math.multiplyExact(B, f.get(k - 1).out()));
      deltas[k] = new Tensor(Math.multiplyExact(B, f.get(k - 1).out()));
    }
    dF = new Tensor(Math.multiplyExact(B, width));
    capB = B;
  }

  /** F's layers from node {@code input}, then {@code add(input, F)} and ReLU with dropout: the block as graph ops. */
  @Override
  public int addTo(List<Op> ops, int input) {
    int at = input;
    for (Layer l : f) {
      at = l.addTo(ops, at);
    }
    ops.add(new AddOp(input, at, width));
    ops.add(new ReluOp(ops.size(), width));
    return ops.size();
  }

  @Override
  public void forward(Tensor out, Tensor inp, Tensor params, int B, float retain, Rng rng) {
    ensure(B);
    int n = f.size();
    for (int k = 0; k < n; k++) {
      f.get(k).forward(acts[k + 1], k == 0 ? inp : acts[k], params, B, retain, rng);
    }
    FloatBuffer x = inp.buffer();
    FloatBuffer z = acts[n].buffer();
    FloatBuffer y = out.buffer();
    float scale = retain >= 1f ? 1f : 1f / retain;
    for (int i = 0, m = B * width; i < m; i++) {
      float a = Math.max(x.get(i) + z.get(i), 0f);
      if (retain < 1f) {
        a = rng.nextFloat() < retain ? a * scale : 0f;
      }
      y.put(i, a);
    }
  }

  @Override
  public void backward(Tensor dinp, Tensor grads, Tensor dout, Tensor out, Tensor inp, Tensor params, int B,
      float retain) {
    ensure(B);
    Layers.reluDropoutBackward(dout, out, B, width, retain); // dout is now dL/dz, z = x + F(x)
    int n = f.size();
    for (int k = n - 1; k >= 0; k--) {
      Tensor din = k > 0 ? deltas[k] : dinp == null ? null : dF;
      f.get(k).backward(din, grads, k == n - 1 ? dout : deltas[k + 1], acts[k + 1], k == 0 ? inp : acts[k], params, B,
          retain);
    }
    if (dinp != null) { // the skip: dL/dx = dL/dz + F'(x)ᵀ dL/dz
      FloatBuffer d = dinp.buffer();
      FloatBuffer a = dout.buffer();
      FloatBuffer b = dF.buffer();
      for (int i = 0, m = B * width; i < m; i++) {
        d.put(i, a.get(i) + b.get(i));
      }
    }
  }

  /** γ_in at every boundary of F from {@code gIn}: g[0] = gIn, g[k + 1] after F's layer k. */
  private double[][] forwardGammas(FloatBuffer w, double[] gIn, double p, boolean includeBiases) {
    int n = f.size();
    double[][] g = new double[n + 1][];
    g[0] = gIn;
    for (int k = 0; k < n; k++) {
      g[k + 1] = new double[f.get(k).out()];
      f.get(k).gammaForward(w, g[k], g[k + 1], p, includeBiases);
    }
    return g;
  }

  /** γ_out at every boundary of F from {@code gOut}: h[n] = gOut, h[k] before F's layer k. */
  private double[][] backwardGammas(FloatBuffer w, double[] gOut, double p) {
    int n = f.size();
    double[][] h = new double[n + 1][];
    h[n] = gOut;
    for (int k = n - 1; k >= 0; k--) {
      h[k] = new double[f.get(k).in()];
      f.get(k).gammaBackward(w, h[k + 1], h[k], p);
    }
    return h;
  }

  @Override
  public void gammaForward(FloatBuffer params, double[] gIn, double[] gOut, double p, boolean includeBiases) {
    double[] gF = forwardGammas(params, gIn, p, includeBiases)[f.size()];
    boolean inf = Double.isInfinite(p);
    for (int i = 0; i < width; i++) {
      gOut[i] = inf ? Math.max(gF[i], gIn[i]) : gF[i] + gIn[i]; // the skip edge: |1|^p · γ_in(x_i)
    }
  }

  @Override
  public void gammaBackward(FloatBuffer params, double[] gOut, double[] gIn, double p) {
    double[] hF = backwardGammas(params, gOut, p)[0];
    boolean inf = Double.isInfinite(p);
    for (int i = 0; i < width; i++) {
      gIn[i] = inf ? Math.max(hF[i], gOut[i]) : hF[i] + gOut[i];
    }
  }

  /** Refused: F's γ need the weights; {@link #kappa(FloatBuffer, double[], double[], double, double[])}. */
  @Override
  public void kappa(double[] gIn, double[] gOut, double p, double[] kappa) {
    throw new UnsupportedOperationException("res: κ needs the parameters; call kappa(params, gIn, gOut, p, kappa)");
  }

  /**
   * κ of F's parameters from the block's γ_in (inputs) and γ_out (outputs): F's inner γ_in forwarded from γ_in(x),
   * its inner γ_out sent back from γ_out(y), biases included in γ_in as for every layer's κ ({@code LayerKappa}).
   */
  @Override
  public void kappa(FloatBuffer params, double[] gIn, double[] gOut, double p, double[] kappa) {
    double[][] g = forwardGammas(params, gIn, p, true);
    double[][] h = backwardGammas(params, gOut, p);
    for (int k = 0; k < f.size(); k++) {
      f.get(k).kappa(g[k], h[k + 1], p, kappa);
    }
  }
}
