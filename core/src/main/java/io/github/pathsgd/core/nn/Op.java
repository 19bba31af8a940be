package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * One node of a {@link Graph}: reads the activations of the nodes {@link #inputs()}, writes its own (node k + 1 for
 * op k; node 0 is the network's input), on flat float32 buffers of B rows in the llm.c style. Everything the rest of
 * the code needs of an op's kind is here, so that nothing outside it names the kind:
 *
 * <ul>
 *   <li>its inputs (a chain op reads the node before it; {@link AddOp} reads two) and its output width;
 *   <li>its parameter slices ({@link #params()}: names, shapes, offsets: initialization, norms, model-file names);
 *   <li>forward, and backward that <b>accumulates</b> into its inputs' error buffers (the executor zeroes the error
 *       buffer of every node with several readers once at the start of backward, as llm.c's {@code zero_grad}; {@code
 *       residual_backward} adds; a node's only reader writes its error instead);
 *   <li>its path rule: γ forward and backward over |θ|^p (an identity edge has weight |1|^p = 1) and κ of its
 *       parameters, receiving the parameters;
 *   <li>its channel ties ({@link #tiedInputs()}): the inputs whose channel ch is joined to output channel ch with no
 *       parameter between (an edge of fixed weight 1, pooling), so that a node rescaling must scale them together.
 * </ul>
 */
public interface Op {
  /** The op's kind, as a {@code --layers} spec or an error message names it ({@code dense}, {@code add}, ...). */
  String kind();

  /** The nodes the op reads: node 0 is the network input, node k + 1 the output of op k; all below its own node. */
  int[] inputs();

  /** The width (units per row) of the op's output node. */
  int out();

  /** The width its input {@code j} must have (that of node {@code inputs()[j]}). */
  int in(int j);

  /** The op's parameter tensors in parameter order (a weight, then its rows' bias); none for a fixed op. */
  default List<ParamSlice> params() {
    return List.of();
  }

  /**
   * Forward on a batch: writes {@code out} (B, {@link #out()}) from {@code ins[j]}, the activations of {@code
   * inputs()[j]}; a hidden op applies inverted dropout with keep probability {@code retain} (masks from {@code rng}).
   */
  void forward(Tensor out, Tensor[] ins, Tensor params, int B, float retain, Rng rng);

  /**
   * Backward on a batch: {@code dout} holds dL/d(out) on entry (the op may change it in place); adds dL/d(ins[j]) into
   * {@code dins[j]} (null: the network input, whose error nobody needs), or writes it there when {@code sole[j]} (the
   * op is that node's only reader, and the executor did not zero its error), and writes the gradient of its own
   * parameters into {@code grads}. {@code tmp} is the workspace's shared scratch, at least B × (the widest input that
   * is not {@code sole}) floats; null when every input of every op is sole or the network input.
   */
  void backward(Tensor[] dins, boolean[] sole, Tensor grads, Tensor dout, Tensor out, Tensor[] ins, Tensor params,
      int B, float retain, Tensor tmp);

  /** The op's step scratch for batches of up to {@code maxBatch} rows ({@link Layer#scratch}), or null. */
  default Layer.Scratch scratch(int maxBatch) {
    return null;
  }

  /** The op's scratch for the γ sweeps and κ ({@link Layer#sweepScratch}), or null. */
  default Layer.Scratch sweepScratch() {
    return null;
  }

  /** {@link #forward(Tensor, Tensor[], Tensor, int, float, Rng)} with the op's step scratch ({@link #scratch}). */
  default void forward(Tensor out, Tensor[] ins, Tensor params, int B, float retain, Rng rng, Layer.Scratch s) {
    forward(out, ins, params, B, retain, rng);
  }

  /** {@link #backward(Tensor[], boolean[], Tensor, Tensor, Tensor, Tensor[], Tensor, int, float, Tensor)} with the
   * op's step scratch ({@link #scratch}). */
  default void backward(Tensor[] dins, boolean[] sole, Tensor grads, Tensor dout, Tensor out, Tensor[] ins,
      Tensor params, int B, float retain, Tensor tmp, Layer.Scratch s) {
    backward(dins, sole, grads, dout, out, ins, params, B, retain, tmp);
  }

  /** {@link #gammaForward(FloatBuffer, double[][], double[], double, boolean)} with the sweep scratch. */
  default void gammaForward(FloatBuffer params, double[][] gIns, double[] gOut, double p, boolean includeBiases,
      Layer.Scratch s) {
    gammaForward(params, gIns, gOut, p, includeBiases);
  }

  /** {@link #gammaBackward(FloatBuffer, double[], double[][], double, double[])} with the sweep scratch. */
  default void gammaBackward(FloatBuffer params, double[] gOut, double[][] gIns, double p, double[] tmp,
      Layer.Scratch s) {
    gammaBackward(params, gOut, gIns, p, tmp);
  }

  /** {@link #kappa(FloatBuffer, double[][], double[], double, double[])} with the sweep scratch. */
  default void kappa(FloatBuffer params, double[][] gIns, double[] gOut, double p, double[] kappa, Layer.Scratch s) {
    kappa(params, gIns, gOut, p, kappa);
  }

  /**
   * γ forward: writes γ_in of the output units from γ_in of the inputs, {@code Σ_u γ_in(u)·|w_{u→v}|^p (+ |b_v|^p)}
   * (max for p = ∞), in double.
   */
  void gammaForward(FloatBuffer params, double[][] gIns, double[] gOut, double p, boolean includeBiases);

  /**
   * γ backward: adds (max for p = ∞) {@code Σ_v |w_{u→v}|^p·γ_out(v)} into γ_out of each input unit u, in double;
   * {@code tmp} is scratch at least as long as the widest input.
   */
  void gammaBackward(FloatBuffer params, double[] gOut, double[][] gIns, double p, double[] tmp);

  /**
   * κ of the op's parameters at their indices of {@code kappa}, from γ_in of its inputs and γ_out of its output: the
   * formula is {@code geometry.Kappa}'s (a sum over tied edges for shared weights). A fixed op has none.
   */
  default void kappa(FloatBuffer params, double[][] gIns, double[] gOut, double p, double[] kappa) {}

  /**
   * The indices j (into {@link #inputs()}) of the inputs whose channel ch is joined to output channel ch with no
   * parameter between, so that a positive scale of the channel passes through ({@link AddOp}: both, by edges of fixed
   * weight 1; {@link ReluOp}: its one input; a pooling {@link LayerOp}: its input): such channels can only be rescaled
   * together. None for an op whose edges are parameters. {@link Graph#tieGroups} and {@code
   * core.geometry.RescalingGroups} both derive from these.
   */
  default int[] tiedInputs() {
    return new int[0];
  }

  /**
   * The layer whose weights the op runs, reading the op's input 0 ({@link LayerOp}: its layer): a rescaling of input
   * 0's channel ch multiplies the weights {@link Layer#inputChannelRanges} names, one of the output's channel ch its
   * row ch ({@code core.geometry.RescalingGroups}). Null for an op without one (add, relu).
   */
  default Layer layer() {
    return null;
  }

  /** Whether the op's output is behind a ReLU (a hidden layer's fused ReLU, or {@link ReluOp}). */
  default boolean relu() {
    return false;
  }

  /** Adds (max for p = ∞) {@code v} into {@code acc}, the accumulation rule of every γ_out. */
  static void accumulate(double[] acc, double[] v, int n, double p) {
    boolean inf = Double.isInfinite(p);
    for (int i = 0; i < n; i++) {
      acc[i] = inf ? Math.max(acc[i], v[i]) : acc[i] + v[i];
    }
  }

  /** Writes ({@code sole}) or adds the first {@code n} floats of {@code v} into {@code acc}. */
  static void accumulate(Tensor acc, Tensor v, int n, boolean sole) {
    if (sole) {
      acc.buffer().put(0, v.buffer(), 0, n);
    } else {
      accumulate(acc, v, n);
    }
  }

  /** Adds the first {@code n} floats of {@code v} into {@code acc}. */
  static void accumulate(Tensor acc, Tensor v, int n) {
    FloatBuffer a = acc.buffer();
    FloatBuffer b = v.buffer();
    for (int i = 0; i < n; i++) {
      a.put(i, a.get(i) + b.get(i));
    }
  }
}
