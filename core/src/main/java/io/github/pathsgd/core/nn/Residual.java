package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A residual block with an identity skip, {@code y = relu(x + F(x))} followed by (inverted) dropout, where F is a
 * chain of layers whose last one is linear (no ReLU): in the path picture every unit x_i has an edge of fixed weight 1
 * to y_i beside the paths through F. The block is a description: in its network's {@link Graph} it becomes ops ({@link
 * #addTo}: F's layers, an {@link AddOp} and a {@link ReluOp}), which run it; it is never run as one layer.
 *
 * <ul>
 *   <li>Backward accumulates, as llm.c's {@code residual_backward}: dL/dx = dL/dz + F'(x)ᵀ·dL/dz, z = x + F(x)
 *       (the add op adds dL/dz into x's error, F's first layer its share).
 *   <li>γ forward: γ_in(y_i) = γ_in through F (its weights and biases) + γ_in(x_i) (max for p = ∞): the skip edge
 *       contributes |1|^p·γ_in(x_i). γ backward likewise: γ_out(x_i) = γ_out back through F + γ_out(y_i).
 *   <li>κ of F's parameters: each inner layer's own κ with the γ of the graph's nodes; the skip has no parameter.
 *   <li>Rescaling: the units at the two ends of an identity skip can only be rescaled together (the weight 1 stays
 *       1): the block's {@link AddOp} declares the tie ({@link Op#tiedInputs()}), and {@code
 *       core.geometry.RescalingGroups}, from the graph's ties, puts output channel
 *       ch in the group of input channel ch (with F's last layer's row ch and F's first layer's weights reading ch);
 *       a node rescaling of one end alone is refused there by name, and {@link #inputChannelRanges} refuses to be
 *       read as a plain layer's; F's hidden units rescale freely.
 * </ul>
 *
 * Parameters: F's layers' slices in order, named {@code f.{j}.weight} / {@code f.{j}.bias}, j counting F's layers with
 * parameters (as a PyTorch module holding {@code self.f = nn.ModuleList([...])} names them). F's activations live in
 * the network's workspace, one buffer per node.
 */
public final class Residual implements Layer {
  private final List<Layer> f;
  private final int width;
  private final int offset;
  private final int size;

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
  @Override
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
        + "unit by the identity skip; they rescale together, as one group of RescalingGroups");
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

  /** Refused: the block runs as ops of its network's graph ({@link #addTo}, {@link Graph}), never as one layer. */
  @Override
  public void forward(Tensor out, Tensor inp, Tensor params, int B, float retain, Rng rng) {
    throw refused("forward");
  }

  /** Refused, as {@link #forward}. */
  @Override
  public void backward(Tensor dinp, Tensor grads, Tensor dout, Tensor out, Tensor inp, Tensor params, int B,
      float retain) {
    throw refused("backward");
  }

  /** Refused, as {@link #forward}: the path sweeps run over the graph's ops ({@code geometry.PathSweep}). */
  @Override
  public void gammaForward(FloatBuffer params, double[] gIn, double[] gOut, double p, boolean includeBiases) {
    throw refused("gammaForward");
  }

  /** Refused, as {@link #gammaForward}. */
  @Override
  public void gammaBackward(FloatBuffer params, double[] gOut, double[] gIn, double p) {
    throw refused("gammaBackward");
  }

  /** Refused, as {@link #gammaForward}. */
  @Override
  public void kappa(double[] gIn, double[] gOut, double p, double[] kappa) {
    throw refused("kappa");
  }

  private static UnsupportedOperationException refused(String what) {
    return new UnsupportedOperationException("res: " + what + " runs over the block's ops (F's layers, add, relu) "
        + "in its network's graph (Layer.addTo, Graph); a block is never run as one layer");
  }
}
