package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * One layer of a feed-forward ReLU network, on flat float32 buffers in the llm.c style: its parameters are the range
 * [{@link #paramOffset}, + {@link #paramSize}) of the network's one parameter vector, and every method takes the
 * buffers and the batch size. A network ({@link LayerNet}) is a sequence of layers, layer k mapping width index k to k+1.
 *
 * <p>Besides forward and backward on batches, a layer provides the path sweeps that the path norms and Path-SGD need
 * (Neyshabur, Salakhutdinov and Srebro, "Path-SGD", NIPS 2015, §3–4; docs/paper-spec.md §2.3): γ forward over
 * |θ|^p, γ backward, and κ of each of its parameters ({@code geometry.Kappa} states the formula; a layer whose
 * weights are shared, a convolution, sums over its tied edges), and its γ sweeps run over the unrolled edges. p = ∞
 * means max-plus over |θ| (sums become maxima).
 */
public interface Layer {
  /** The layer's kind, as a {@code --layers} spec names it: {@code dense}, {@code conv}, {@code avgpool}, ... */
  String kind();

  /**
   * The layer's parameter tensors in parameter order, which tile [{@link #paramOffset}, + {@link #paramSize}): a
   * weight, then the bias of its rows (PyTorch's names and shapes); none for a layer without parameters.
   */
  default List<ParamSlice> paramSlices() {
    return List.of();
  }

  /**
   * The layers that hold this layer's parameters, one per weight/bias pair of {@link #paramSlices} in order: the
   * layer itself, or a block's inner layers with parameters ({@link Residual}).
   */
  default List<Layer> parts() {
    return paramSize() == 0 ? List.of() : List.of(this);
  }

  /**
   * Appends the layer to a graph as ops reading node {@code input}; returns the node that holds its output. A layer is
   * one {@link LayerOp}; a block expands into its inner ops ({@link Residual}: F's layers, an {@link AddOp} and a {@link
   * ReluOp}).
   */
  default int addTo(java.util.List<Op> ops, int input) {
    ops.add(new LayerOp(this, input));
    return ops.size();
  }

  /** Whether a ReLU (and dropout) follows the layer: a hidden layer, whose output units can be rescaled. */
  default boolean relu() {
    return false;
  }

  /**
   * Whether the layer is fully connected in the form the fast path folds into GEMMs: W (out, in) row-major at {@link
   * #paramOffset()}, its bias (out) right after, and the layer's ReLU and dropout as {@link Dense}'s. A chain of such
   * layers is a {@link DenseChain} ({@link DenseChain#of}); {@link Dense} declares it, every other layer not.
   */
  default boolean fullyConnected() {
    return false;
  }

  /** A block's projection skip ({@link Residual} with {@code proj}), null for an identity skip or a plain layer. */
  default Layer skip() {
    return null;
  }

  /** The chain of layers inside a block ({@link Residual}'s F), empty for a plain layer. */
  default List<Layer> inner() {
    return List.of();
  }

  /** A range of parameter indices [from, from + n). */
  @FunctionalInterface
  interface Ranges {
    void accept(int from, int n);
  }

  /**
   * The parameter ranges of the weights that read input channel {@code ch} of {@code channels} (each channel spanning
   * {@code in() / channels} consecutive inputs): the outgoing edges of a unit of the layer before, which a node
   * rescaling multiplies by 1/c. A layer without weights refuses, naming its kind.
   */
  default void inputChannelRanges(int ch, int channels, Ranges ranges) {
    throw new UnsupportedOperationException(kind() + " has no weights that read its input channels");
  }

  /**
   * The parameter ranges of the layer's own weights that read its output channel {@code ch} (a recurrent layer's
   * column ch of W_rec, which reads h_{t−1}[ch]): a node rescaling of channel ch multiplies them by 1/c, while its
   * incoming ranges (row ch of every slice) take c. None for a feed-forward layer.
   */
  default void recurrentRanges(int ch, Ranges ranges) {}

  /**
   * ‖W‖₂ of the layer's weights in {@code params}, biases left out: the largest singular value of a dense layer's
   * [out, in] matrix, a convolution's operator norm on its input size (stride and padding included, {@link
   * ConvOperator}); NaN where it is not defined (an rnn layer, whose W_rec acts at every time step). A layer without
   * weights refuses, naming its kind.
   */
  default double spectralNorm(FloatBuffer params) {
    throw new UnsupportedOperationException(kind() + " has no weights");
  }

  /**
   * A layer's scratch: buffers its passes reuse. Step scratch ({@link #scratch(int)}) is made once per workspace, one
   * per op ({@code Graph.workspace}); sweep scratch ({@link #sweepScratch()}) once per path sweep ({@code
   * geometry.PathSweep}, which a κ workspace keeps). A layer holds shapes and offsets only.
   */
  interface Scratch {}

  /**
   * The step scratch of {@link #forward(Tensor, Tensor, Tensor, int, float, Rng, Scratch)} and {@link
   * #backward(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, int, float, Scratch)} for batches of up to {@code
   * maxBatch} rows; null for a layer that needs none.
   */
  default Scratch scratch(int maxBatch) {
    return null;
  }

  /** The scratch of the γ sweeps and κ ({@link #gammaForward(FloatBuffer, double[], double[], double, boolean,
   * Scratch)} ...); null for a layer that needs none. */
  default Scratch sweepScratch() {
    return null;
  }

  /**
   * {@link #forward(Tensor, Tensor, Tensor, int, float, Rng)} with the layer's step scratch {@code s} ({@link
   * #scratch(int)}, or null: made for the call); a layer without scratch ignores it.
   */
  default void forward(Tensor out, Tensor inp, Tensor params, int B, float retain, Rng rng, Scratch s) {
    forward(out, inp, params, B, retain, rng);
  }

  /** {@link #backward(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, int, float)} with the step scratch {@code s}. */
  default void backward(Tensor dinp, Tensor grads, Tensor dout, Tensor out, Tensor inp, Tensor params, int B,
      float retain, Scratch s) {
    backward(dinp, grads, dout, out, inp, params, B, retain);
  }

  /** {@link #gammaForward(FloatBuffer, double[], double[], double, boolean)} with the sweep scratch {@code s}. */
  default void gammaForward(FloatBuffer params, double[] gIn, double[] gOut, double p, boolean includeBiases,
      Scratch s) {
    gammaForward(params, gIn, gOut, p, includeBiases);
  }

  /** {@link #gammaBackward(FloatBuffer, double[], double[], double)} with the sweep scratch {@code s}. */
  default void gammaBackward(FloatBuffer params, double[] gOut, double[] gIn, double p, Scratch s) {
    gammaBackward(params, gOut, gIn, p);
  }

  /** {@link #kappa(FloatBuffer, double[], double[], double, double[])} with the sweep scratch {@code s}. */
  default void kappa(FloatBuffer params, double[] gIn, double[] gOut, double p, double[] kappa, Scratch s) {
    kappa(params, gIn, gOut, p, kappa);
  }

  /** Input width (units of width index k). */
  int in();

  /** Output width (units of width index k + 1). */
  int out();

  /** Where the layer's parameters start in the parameter vector. */
  int paramOffset();

  /** How many parameters the layer has. */
  int paramSize();

  /**
   * Forward on a batch: {@code out = f(inp)}; hidden layers apply their activation and (inverted) dropout with keep
   * probability {@code retain} (1: none; masks from {@code rng}).
   *
   * <pre>
   * inp is (B, in), out is (B, out)
   * </pre>
   */
  void forward(Tensor out, Tensor inp, Tensor params, int B, float retain, Rng rng);

  /**
   * Backward on a batch. {@code dout} holds dL/d(out) on entry (the layer's activation and dropout are undone in
   * place, with {@code out} the stored output); writes the parameter gradient into {@code grads} and, when {@code
   * dinp} is not null, dL/d(inp).
   *
   * <pre>
   * dout, out are (B, out); inp, dinp are (B, in); grads has the layout of params
   * </pre>
   */
  void backward(Tensor dinp, Tensor grads, Tensor dout, Tensor out, Tensor inp, Tensor params, int B, float retain);

  /** γ forward: {@code gOut[v] = Σ_u γ_in(u)·|w_{u→v}|^p (+ |b_v|^p)} from {@code gIn} (max for p = ∞), in double. */
  void gammaForward(FloatBuffer params, double[] gIn, double[] gOut, double p, boolean includeBiases);

  /** γ backward: {@code gIn[u] = Σ_v |w_{u→v}|^p·γ_out(v)} from {@code gOut} (max for p = ∞), in double. */
  void gammaBackward(FloatBuffer params, double[] gOut, double[] gIn, double p);

  /**
   * κ of each parameter of the layer, written at its index of {@code kappa} (parameter layout), in double, by the
   * formula of {@code geometry.Kappa} from γ_in of its inputs and γ_out of its outputs.
   */
  void kappa(double[] gIn, double[] gOut, double p, double[] kappa);

  /**
   * {@link #kappa(double[], double[], double, double[])} receiving the parameters, for a layer whose κ depends on its
   * own weights (a block with inner γ, {@link Residual}); the others ignore them. The geometry calls this one.
   */
  default void kappa(FloatBuffer params, double[] gIn, double[] gOut, double p, double[] kappa) {
    kappa(gIn, gOut, p, kappa);
  }
}
