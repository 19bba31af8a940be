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
 * <p>With a projection skip ({@code res(..., proj)}, {@link #Residual(List, Layer)}), y = relu(P·x + F(x)) with P a
 * linear 1x1 convolution (a dense layer when F ends dense) that maps x to F's output shape: its weights are ordinary
 * edges of the path picture (no fixed weight 1 from x), so x's units are not tied to y's; y's channel ch is tied to
 * P's row ch and F's last layer's row ch (one group, named after F's last layer), and x's channels are read by F's
 * first layer and by P (×1/c on both). In the graph P is one more chain op reading x ({@link LayerOp}), added to F's
 * output by the {@link AddOp}.
 *
 * Parameters: F's layers' slices in order, named {@code f.{j}.weight} / {@code f.{j}.bias}, j counting F's layers with
 * parameters (as a PyTorch module holding {@code self.f = nn.ModuleList([...])} names them), then the projection's
 * {@code proj.weight} / {@code proj.bias} ({@code self.proj = nn.Conv2d(c_in, c_out, 1, stride=s)} or {@code
 * nn.Linear}), so a model file names them {@code layers.{i}.f.{j}.weight} and {@code layers.{i}.proj.weight}. F's
 * activations live in the network's workspace, one buffer per node.
 */
public final class Residual implements Layer {
  private final List<Layer> f;
  private final Layer proj; // the projection skip, or null for an identity skip
  private final int inWidth;
  private final int width;
  private final int offset;
  private final int size;

  /**
   * A block over {@code f} (consecutive widths agreeing, in = out, the last layer linear, the parameters contiguous).
   */
  public Residual(List<Layer> f) {
    this(f, null);
  }

  /**
   * A block over {@code f} with a projection skip {@code proj} (null: an identity skip): a linear layer from F's input
   * width to F's output width whose parameters follow F's.
   */
  public Residual(List<Layer> f, Layer proj) {
    if (f.isEmpty()) {
      throw new IllegalArgumentException("res: F needs at least one layer");
    }
    Layer last = f.get(f.size() - 1);
    if (last.relu()) {
      throw new IllegalArgumentException("res: F's last layer (" + last.kind() + ") must be linear: the ReLU comes "
          + "after the addition");
    }
    if (proj == null && f.get(0).in() != last.out()) {
      throw new IllegalArgumentException("res: an identity skip needs F to keep the width, got " + f.get(0).in()
          + " -> " + last.out() + "; a shape change needs a projection skip, res(..., proj)");
    }
    if (proj != null && (proj.relu() || proj.paramSize() == 0 || proj.in() != f.get(0).in()
        || proj.out() != last.out())) {
      throw new IllegalArgumentException("res: the projection skip (" + proj.kind() + ", " + proj.in() + " -> "
          + proj.out() + (proj.relu() ? ", with ReLU" : "") + ") must be a linear layer with parameters from F's "
          + "input width " + f.get(0).in() + " to its output width " + last.out());
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
    if (proj != null) {
      if (proj.paramOffset() != at) {
        throw new IllegalArgumentException("res: the projection's parameters must follow F's; it starts at "
            + proj.paramOffset() + ", expected " + at);
      }
      at += proj.paramSize();
    }
    this.f = List.copyOf(f);
    this.proj = proj;
    this.inWidth = f.get(0).in();
    this.width = last.out();
    this.offset = f.get(0).paramOffset();
    this.size = at - offset;
  }

  /** F's layers, in order. */
  @Override
  public List<Layer> inner() {
    return f;
  }

  /** The projection skip, or null for an identity skip. */
  @Override
  public Layer skip() {
    return proj;
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
    if (proj != null) {
      for (ParamSlice s : proj.paramSlices()) {
        out.add(new ParamSlice("proj." + s.name(), s.offset(), s.shape(), s.fanIn()));
      }
    }
    return out;
  }

  /** F's layers with parameters, in order (one per {@code f.{j}} pair of slices), then the projection if any. */
  @Override
  public List<Layer> parts() {
    List<Layer> out = new ArrayList<>(f.stream().filter(l -> l.paramSize() > 0).toList());
    if (proj != null) {
      out.add(proj);
    }
    return out;
  }

  /** Refused: a unit that feeds an identity skip is tied to the unit the skip reaches (the weight 1 stays 1). */
  @Override
  public void inputChannelRanges(int ch, int channels, Ranges ranges) {
    throw new IllegalArgumentException("res: input unit " + ch + " of a residual block is tied to its output "
        + "unit by the identity skip; they rescale together, as one group of RescalingGroups");
  }

  /**
   * 1 + Π‖W_k‖₂ over F's layers with weights (‖P‖₂ + Π‖W_k‖₂ with a projection skip): the usual bound on the block's
   * Lipschitz constant (an identity skip has norm 1, ReLU is 1-Lipschitz), which is what a product of layer norms
   * becomes for x ↦ relu(x + F(x)); not ‖·‖₂ of a matrix.
   */
  @Override
  public double spectralNorm(FloatBuffer params) {
    double prod = 1;
    for (Layer l : f) {
      if (l.paramSize() > 0) {
        prod *= l.spectralNorm(params);
      }
    }
    return (proj == null ? 1 : proj.spectralNorm(params)) + prod;
  }

  @Override
  public int in() {
    return inWidth;
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

  /**
   * F's layers from node {@code input}, then {@code add(input, F)} (with a projection skip: P reading {@code input},
   * then {@code add(P, F)}) and ReLU with dropout: the block as graph ops.
   */
  @Override
  public int addTo(List<Op> ops, int input) {
    int at = input;
    for (Layer l : f) {
      at = l.addTo(ops, at);
    }
    int skip = proj == null ? input : proj.addTo(ops, input);
    ops.add(new AddOp(skip, at, width));
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
