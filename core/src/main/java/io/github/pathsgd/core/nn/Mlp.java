package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;

/**
 * A fully connected ReLU network {@code n_0 → n_1 → ... → n_L} with biases and linear outputs, trained with softmax
 * cross-entropy. Hidden units are ReLU; the output layer is linear.
 *
 * <p>The parameters are one flat float32 {@link Tensor} in the {@link ParamLayout} order W_0, b_0, W_1, b_1, ... with
 * W_l of shape (n_{l+1}, n_l). Activations live in a {@link Workspace} sized for a maximum batch, allocated once and
 * reused every step.
 *
 * <p>Dropout is inverted: during training each hidden unit is kept with probability {@code retain} and its output is
 * scaled by {@code 1/retain}; evaluation uses the network unchanged. Optionally the inputs are dropped too. Masks come
 * from the {@link Rng} passed in, normally the run's seeded dropout stream.
 */
public final class Mlp implements Network {
  private final ParamLayout layout;
  private final Tensor params;
  private final Dense[] layers;

  /** A network with all parameters zero; see {@link Init} for initializations. */
  public Mlp(ParamLayout layout) {
    this(layout, new Tensor(layout.size()));
  }

  /** A network over existing parameters (not copied). */
  public Mlp(ParamLayout layout, Tensor params) {
    if (params.size() != layout.size()) {
      throw new IllegalArgumentException("parameter vector has " + params.size() + " floats, layout " + layout
          + " needs " + layout.size());
    }
    this.layout = layout;
    this.params = params;
    this.layers = Dense.of(layout);
  }

  @Override
  public ParamLayout layout() {
    return layout;
  }

  @Override
  public int inputs() {
    return layout.inputs();
  }

  @Override
  public int outputs() {
    return layout.outputs();
  }

  @Override
  public Tensor params() {
    return params;
  }

  /** The layers, in order: layer l maps width index l to l + 1. */
  @Override
  public java.util.List<Layer> layers() {
    return java.util.List.of(layers);
  }

  /** A deep copy. */
  @Override
  public Mlp copy() {
    return new Mlp(layout, params.copy());
  }

  /** A workspace for batches of up to {@code maxBatch} rows. */
  @Override
  public Workspace workspace(int maxBatch) {
    layout.requireBatch(maxBatch); // positive, and batch x widest layer fits one buffer
    return new Workspace(layout.widths(), maxBatch, true);
  }

  /**
   * Forward pass on the first {@code B} rows of {@code ws.input()}; returns the logits tensor (B, n_L) of the
   * workspace. With {@code dropout.active()} the masks are drawn from {@code rng}.
   */
  @Override
  public Tensor forward(Workspace ws, int B, Dropout dropout, Rng rng) {
    ws.check(B);
    int L = layout.layers();
    if (dropout.active() && dropout.inputRetain() < 1f) {
      Layers.dropoutForward(ws.acts[0], B, layout.inputs(), dropout.inputRetain(), rng);
    }
    float retain = dropout.active() ? dropout.hiddenRetain() : 1f;
    for (int l = 0; l < L; l++) {
      layers[l].forward(ws.acts[l + 1], ws.acts[l], params, B, retain, rng);
    }
    return ws.acts[L];
  }

  /**
   * One forward and backward pass on the first {@code B} rows of {@code ws.input()} with labels {@code
   * labels[yOff..yOff+B)}: writes dL/dθ of the mean cross-entropy into {@code grads} (same layout as the parameters).
   *
   * @return the mean loss and the number of misclassified rows (under the dropout mask used for the step)
   */
  @Override
  public StepStats lossAndGradient(Workspace ws, int B, int[] labels, int yOff, Tensor grads, Dropout dropout,
      Rng rng) {
    if (grads.size() != layout.size()) {
      throw new IllegalArgumentException("gradient has " + grads.size() + " floats, expected " + layout.size());
    }
    forward(ws, B, dropout, rng);
    return gradientAfterForward(ws, B, labels, yOff, grads, dropout);
  }

  /**
   * The rest of {@link #lossAndGradient} after its forward pass: the loss of the activations that {@link #forward}
   * left in {@code ws} (same batch, labels and dropout) and the gradient into {@code grads}.
   */
  @Override
  public StepStats gradientAfterForward(Workspace ws, int B, int[] labels, int yOff, Tensor grads, Dropout dropout) {
    if (grads.size() != layout.size()) {
      throw new IllegalArgumentException("gradient has " + grads.size() + " floats, expected " + layout.size());
    }
    int L = layout.layers();
    Tensor d = ws.deltas[L];
    Layers.softmaxCrossEntropy(ws.acts[L], labels, yOff, B, layout.outputs(), d, ws.lossOut);
    double loss = ws.lossOut[0] / B;
    int errors = (int) ws.lossOut[1];
    float retain = dropout.active() ? dropout.hiddenRetain() : 1f;
    for (int l = L - 1; l >= 0; l--) {
      layers[l].backward(l > 0 ? ws.deltas[l] : null, grads, ws.deltas[l + 1], ws.acts[l + 1], ws.acts[l], params, B,
          retain);
    }
    return new StepStats(loss, errors);
  }

  /**
   * One training step with the update folded into the weight-gradient GEMMs (no gradient buffer):
   *
   * <pre>
   * W_l ← W_l − lr · diag(r_l) · dZ_lᵀ · X_l · diag(c_l)      (sgemm with alpha = −lr, beta = 1)
   * b_l ← b_l − lr · diag(r_l) · Σ_b dZ_l[b, :]
   * </pre>
   *
   * where dZ_l (B, out) is the back-propagated error of layer l and X_l (B, in) its input. Without row and column
   * scales this is plain SGD; with r_l = 1/κ_out and c_l = 1/κ_in it is Path-SGD (κ of layer l's
   * weights is the rank-one outer product κ_out κ_inᵀ, so the division is a row and a column scale). The input
   * gradient of each layer is computed before its weights change, so the result equals {@link #lossAndGradient}
   * followed by the update, up to float rounding.
   *
   * <p>The scales are doubles: a rescaled network's 1/κ factors can lie outside the float range (1/κ_out of a unit
   * rescaled by c grows as c²), while the scaled errors r_l ⊙ dZ_l and inputs X_l ⊙ c_l, and the update, are of
   * the size of the network's own numbers; they are formed in double and rounded once ({@link RankOne#scaleRowsBy}),
   * the same rule whatever the range, so that two networks that differ by a power-of-two rescaling take bit-identical
   * steps.
   *
   * @param f the fold: α = −lr, and r_l, c_l when {@link FoldedStep#scaled()} (else ones)
   */
  public StepStats fusedStep(Workspace ws, int B, int[] labels, int yOff, Dropout dropout, Rng rng, FoldedStep f) {
    forward(ws, B, dropout, rng);
    return fusedBackward(ws, B, labels, yOff, dropout, f);
  }

  /**
   * The rest of {@link #fusedStep} after its forward pass: the loss of the activations that {@link #forward} left in
   * {@code ws} (same batch, labels and dropout), then the backward pass with the folded update. {@code fusedStep} is
   * {@code forward} followed by this, so a caller may run other work (Path-SGD's κ, {@link
   * io.github.pathsgd.core.step.TrainStep}) between the two.
   */
  @Override
  public StepStats fusedBackward(Workspace ws, int B, int[] labels, int yOff, Dropout dropout, FoldedStep f) {
    float lr = -f.alpha();
    double[][] rowScale = f.rows();
    double[][] colScale = f.cols();
    int L = layout.layers();
    Layers.softmaxCrossEntropy(ws.acts[L], labels, yOff, B, layout.outputs(), ws.deltas[L], ws.lossOut);
    double loss = ws.lossOut[0] / B;
    int errors = (int) ws.lossOut[1];
    if (!Double.isFinite(loss)) {
      return new StepStats(loss, errors);
    }
    for (int l = L - 1; l >= 0; l--) {
      int I = layout.in(l);
      int O = layout.out(l);
      Tensor dz = ws.deltas[l + 1];
      if (l > 0) {
        // dX = dZ · W with the weights before this step's update
        io.github.pathsgd.core.tensor.Blas.sgemm(false, false, B, I, O, 1f, dz, 0, O, params, layout.weightOffset(l),
            I, 0f, ws.deltas[l], 0, I);
      }
      // the loops are small methods of Layers: each compiles on its own, hot from the first steps
      if (rowScale != null) {
        RankOne.scaleRowsBy(dz, B, O, rowScale[l], dz, ws.blockTmp());
      }
      Layers.biasSgdStep(params, layout.biasOffset(l), dz, B, O, lr, ws.biasSum);
      Tensor x = ws.acts[l];
      // skipped where every factor is 1, as for the inputs of layer 0 (κ_in of an input unit is γ_in^{2/p} = 1)
      if (colScale != null && !RankOne.allOnes(colScale[l], I)) {
        RankOne.scaleRowsBy(x, B, I, colScale[l], ws.scratch, ws.blockTmp());
        x = ws.scratch;
      }
      io.github.pathsgd.core.tensor.Blas.sgemm(true, false, O, I, B, -lr, dz, 0, O, x, 0, I, 1f, params,
          layout.weightOffset(l), I);
      if (l > 0) {
        float retain = dropout.active() ? dropout.hiddenRetain() : 1f;
        Layers.reluDropoutBackward(ws.deltas[l], ws.acts[l], B, I, retain);
      }
    }
    return new StepStats(loss, errors);
  }

  /**
   * Evaluation (no dropout) on the first {@code B} rows of {@code ws.input()}.
   *
   * @return the summed loss and the error count over the B rows
   */
  @Override
  public StepStats evaluate(Workspace ws, int B, int[] labels, int yOff) {
    Tensor logits = forward(ws, B, Dropout.NONE, null);
    Layers.softmaxCrossEntropy(logits, labels, yOff, B, layout.outputs(), null, ws.lossOut);
    return new StepStats(ws.lossOut[0], (int) ws.lossOut[1]);
  }
}
