package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.util.List;

/**
 * The network: any sequence of {@link Layer}s (dense, convolution, pooling, residual blocks), trained with softmax
 * cross-entropy on its last layer's outputs, and the only {@link Network}. The parameters are one flat float32 {@link
 * Tensor} that every layer indexes from its {@link Layer#paramOffset()}. It runs on its {@link #graph()}: the layers as
 * {@link Op}s ({@link Layer#addTo}: a residual block its branch, an add and a ReLU), executed in topological order with
 * an accumulating backward; activations, errors and scratch live in the {@link Network.Workspace}, one buffer per
 * node.
 *
 * <p>A fully connected network ({@link #dense}: layers that declare themselves {@link Layer#fullyConnected()}, ReLU
 * between, linear outputs, parameters W_0, b_0, W_1, b_1, ...) has a {@link NetLayout#denseChain()} and takes the fast
 * path: the folded, allocation-free GEMM step ({@link #fusedBackward}) and κ of rank one per layer. A network built
 * from a {@link LayerSpec} is described by its spec (its model files record the spec, its checkpoints the parameter
 * count) and keeps the general path, also when its layers are all dense, so that its files and results stay those of
 * the network it has always been. {@link NetLayout}'s constructor call here is the one place that selects the path.
 *
 * <p>Dropout is inverted: during training each hidden unit is kept with probability {@code retain} and its output is
 * scaled by {@code 1/retain}; evaluation uses the network unchanged. Optionally the inputs are dropped too. Masks come
 * from the {@link Rng} passed in, normally the run's seeded dropout stream.
 */
public final class LayerNet implements Network {
  private final List<Layer> layers;
  private final Tensor params;
  private final NetLayout layout;
  private final LayerSpec spec;
  private final int[] inputShape;
  private final Graph graph; // the executor: the layers as ops (a block expanded), over the same parameters
  private final DenseChainPath fast; // the folded step of a chain of dense layers, else null

  /** The fully connected network of {@code chain} with all parameters zero; see {@link Init} for initializations. */
  public static LayerNet dense(DenseChain chain) {
    return dense(chain, new Tensor(chain.size()));
  }

  /** The fully connected network of widths n_0..n_L with all parameters zero. */
  public static LayerNet dense(int... widths) {
    return dense(new DenseChain(widths));
  }

  /**
   * The fully connected network of {@code chain} over existing parameters (not copied), in the order W_0, b_0, W_1,
   * b_1, ... with W_l of shape (n_{l+1}, n_l): ReLU hidden layers, linear outputs; it takes the fast path.
   */
  public static LayerNet dense(DenseChain chain, Tensor params) {
    if (params.size() != chain.size()) {
      throw new IllegalArgumentException("parameter vector has " + params.size() + " floats, layout " + chain
          + " needs " + chain.size());
    }
    return new LayerNet(List.of(Dense.of(chain)), params);
  }

  /**
   * A network over {@code params} (not copied); consecutive layers must agree in width. Layers that are a chain of
   * dense layers ({@link DenseChain#of}) take the fast path, as {@link #dense} does.
   */
  public LayerNet(List<Layer> layers, Tensor params) {
    this(layers, params, null, null);
  }

  /**
   * A network built from {@code spec} for inputs of {@code inputShape} (C, H, W) (both kept for model files; may be
   * null), over {@code params} (not copied).
   */
  LayerNet(List<Layer> layers, Tensor params, LayerSpec spec, int[] inputShape) {
    if (layers.isEmpty()) {
      throw new IllegalArgumentException("a network needs at least one layer");
    }
    int size = 0;
    for (int k = 0; k < layers.size(); k++) {
      Layer l = layers.get(k);
      if (k > 0 && layers.get(k - 1).out() != l.in()) {
        throw new IllegalArgumentException("layer " + k + " (" + l.getClass().getSimpleName() + ") takes " + l.in()
            + " inputs but layer " + (k - 1) + " gives " + layers.get(k - 1).out());
      }
      size = Math.max(size, l.paramOffset() + l.paramSize());
    }
    if (params.size() != size) {
      throw new IllegalArgumentException("parameter vector has " + params.size() + " floats, the layers need " + size);
    }
    this.layers = List.copyOf(layers);
    this.params = params;
    // the one selection of the fast path: layers that declare a chain of dense layers, unless a spec describes them
    this.layout = new NetLayout(layers, size, spec == null ? DenseChain.of(layers) : null);
    this.fast = layout.denseChain() == null ? null : new DenseChainPath(layout.denseChain());
    this.spec = spec;
    this.inputShape = inputShape == null ? null : inputShape.clone();
    this.graph = new Graph(layers.get(0).in(), Graph.expand(layers), params);
  }

  @Override
  public List<Layer> layers() {
    return layers;
  }

  @Override
  public Tensor params() {
    return params;
  }

  @Override
  public NetLayout layout() {
    return layout;
  }

  /**
   * The chain of dense layers the network is ({@link NetLayout#denseChain()}): its widths and parameter offsets.
   *
   * @throws IllegalStateException naming the layout when the network is not one
   */
  public DenseChain chain() {
    DenseChain c = layout.denseChain();
    if (c == null) {
      throw new IllegalStateException("network " + layout + " is not a chain of dense layers");
    }
    return c;
  }

  /** The spec the network was built from ({@link LayerSpec#build}), or null for a hand-made list of layers. */
  @Override
  public LayerSpec spec() {
    return spec;
  }

  /** The input shape (C, H, W) the network was built for ({@link LayerSpec#build}), or null. */
  @Override
  public int[] inputShape() {
    return inputShape == null ? null : inputShape.clone();
  }

  @Override
  public int inputs() {
    return layers.get(0).in();
  }

  @Override
  public int outputs() {
    return layers.get(layers.size() - 1).out();
  }

  /** A deep copy (the layers are shared: they hold no parameters, only shapes). */
  @Override
  public LayerNet copy() {
    return new LayerNet(layers, params.copy(), spec, inputShape);
  }

  /** The graph of ops the network runs on (its layers, a block expanded into its ops), over the same parameters. */
  public Graph graph() {
    return graph;
  }

  /**
   * The buffers of {@link #graph()}: one activation and error buffer per node, the ops' scratch, and the folded step's
   * scratch when the network takes the fast path (a batch whose widest layer does not fit one buffer is refused,
   * {@link DenseChain#requireBatch}).
   */
  @Override
  public Workspace workspace(int maxBatch) {
    if (fast != null) {
      layout.denseChain().requireBatch(maxBatch); // positive, and batch x widest layer fits one buffer
    }
    return graph.workspace(maxBatch, fast != null);
  }

  /**
   * Forward with {@link Dropout}: the inputs are dropped first when {@code dropout.active()} and {@code
   * dropout.inputRetain() < 1}, then the hidden layers use {@code dropout.hiddenRetain()}; returns the logits (B,
   * outputs) of the workspace.
   */
  @Override
  public Tensor forward(Workspace ws, int B, Dropout dropout, Rng rng) {
    return graph.forward(ws, B, dropout, rng);
  }

  @Override
  public StepStats gradientAfterForward(Workspace ws, int B, int[] labels, int yOff, Tensor grads, Dropout dropout) {
    requireGradient(grads);
    return graph.gradientAfterForward(ws, B, labels, yOff, grads, dropout);
  }

  private void requireGradient(Tensor grads) {
    if (grads.size() != layout.size()) {
      throw new IllegalArgumentException("gradient has " + grads.size() + " floats, expected " + layout.size());
    }
  }

  /**
   * One training step with the update folded into the weight-gradient GEMMs (no gradient buffer): {@link #forward},
   * then {@link #fusedBackward}. Only a network with a {@link NetLayout#denseChain()} has it.
   *
   * @param f the fold: α = −lr, and r_l, c_l when {@link FoldedStep#scaled()} (else ones)
   */
  public StepStats fusedStep(Workspace ws, int B, int[] labels, int yOff, Dropout dropout, Rng rng, FoldedStep f) {
    forward(ws, B, dropout, rng);
    return fusedBackward(ws, B, labels, yOff, dropout, f);
  }

  /**
   * The rest of {@link #fusedStep} after its forward pass: the loss of the activations that {@link #forward} left in
   * {@code ws} (same batch, labels and dropout), then the backward pass with the update folded into the weight-gradient
   * GEMMs ({@link DenseChainPath}): W_l ← W_l + α · diag(r_l) · dZ_lᵀ · X_l · diag(c_l), b_l ← b_l + α · diag(r_l) ·
   * Σ_b dZ_l[b, :]. A caller may run other work (Path-SGD's κ, {@link io.github.pathsgd.core.step.TrainStep}) between
   * the two.
   *
   * @throws UnsupportedOperationException when the network has no {@link NetLayout#denseChain()}
   */
  @Override
  public StepStats fusedBackward(Workspace ws, int B, int[] labels, int yOff, Dropout dropout, FoldedStep f) {
    if (fast == null) {
      return Network.super.fusedBackward(ws, B, labels, yOff, dropout, f);
    }
    return fast.fusedBackward(ws, params, B, labels, yOff, dropout, f);
  }

  /** Evaluation (no dropout): the summed loss and the error count over the first B rows. */
  @Override
  public StepStats evaluate(Workspace ws, int B, int[] labels, int yOff) {
    return graph.evaluate(ws, B, labels, yOff);
  }

  /** Forward on the first B rows of {@code ws.input()}; returns the logits (B, classes). */
  public Tensor forward(Workspace ws, int B, float retain, Rng rng) {
    return graph.forward(ws, B, retain, rng);
  }

  /** Forward, mean softmax cross-entropy and the gradient of every parameter into {@code grads}. */
  public StepStats lossAndGradient(Workspace ws, int B, int[] labels, int yOff, Tensor grads, float retain,
      Rng rng) {
    requireGradient(grads);
    graph.forward(ws, B, retain, rng);
    return graph.backward(ws, B, labels, yOff, grads, retain);
  }
}
