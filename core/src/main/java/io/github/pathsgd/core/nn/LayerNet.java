package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.util.List;

/**
 * A feed-forward network that is any sequence of {@link Layer}s (dense, convolution, pooling, residual blocks),
 * trained with softmax cross-entropy on its last layer's outputs: the general form of {@link Mlp}, which stays the
 * fast, fused path for fully connected networks. The parameters are one flat float32 {@link Tensor} that every layer
 * indexes from its {@link Layer#paramOffset()}. It runs on its {@link #graph()}: the layers as {@link Op}s ({@link
 * Layer#addTo}: a residual block its branch, an add and a ReLU), executed in topological order with an accumulating
 * backward; activations, errors and scratch live in the {@link Network.Workspace}, one buffer per node.
 */
public final class LayerNet implements Network {
  private final List<Layer> layers;
  private final Tensor params;
  private final LayerLayout layout;
  private final LayerSpec spec;
  private final int[] inputShape;
  private final Graph graph; // the executor: the layers as ops (a block expanded), over the same parameters

  /** A network over {@code params} (not copied); consecutive layers must agree in width. */
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
    this.layout = new LayerLayout(layers, size);
    this.spec = spec;
    this.inputShape = inputShape == null ? null : inputShape.clone();
    this.graph = new Graph(layers.get(0).in(), Graph.expand(layers), params, this);
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
  public LayerLayout layout() {
    return layout;
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

  /** A deep copy (the layers are shared: they hold no parameters, only shapes and scratch of one thread). */
  @Override
  public LayerNet copy() {
    return new LayerNet(layers, params.copy(), spec, inputShape);
  }

  /** The graph of ops the network runs on (its layers, a block expanded into its ops), over the same parameters. */
  public Graph graph() {
    return graph;
  }

  /** The buffers of {@link #graph()}: one activation and error buffer per node, and the ops' scratch. */
  @Override
  public Workspace workspace(int maxBatch) {
    return graph.workspace(maxBatch);
  }

  /**
   * Forward with {@link Dropout}: the inputs are dropped first when {@code dropout.inputRetain() < 1} (as {@link
   * Mlp#forward}), then the hidden layers use {@code dropout.hiddenRetain()}.
   */
  @Override
  public Tensor forward(Workspace ws, int B, Dropout dropout, Rng rng) {
    return graph.forward(ws, B, dropout, rng);
  }

  @Override
  public StepStats gradientAfterForward(Workspace ws, int B, int[] labels, int yOff, Tensor grads, Dropout dropout) {
    return graph.gradientAfterForward(ws, B, labels, yOff, grads, dropout);
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
    graph.forward(ws, B, retain, rng);
    return graph.backward(ws, B, labels, yOff, grads, retain);
  }
}
