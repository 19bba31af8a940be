package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.util.List;

/**
 * A feed-forward network that is any sequence of {@link Layer}s (dense, convolution, pooling), trained with softmax
 * cross-entropy on its last layer's outputs: the general form of {@link Mlp}, which stays the fast, fused path for
 * fully connected networks. Layer k maps activation k to activation k + 1; the parameters are one flat float32
 * {@link Tensor} that every layer indexes from its {@link Layer#paramOffset()}.
 *
 * <pre>
 * acts[0] is (B, layers[0].in()), acts[k + 1] is (B, layers[k].out()); deltas[k] like acts[k]
 * </pre>
 */
public final class LayerNet implements Network {
  private final List<Layer> layers;
  private final Tensor params;
  private final LayerLayout layout;
  private final LayerSpec spec;
  private final int[] inputShape;

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

  /** Activation and error buffers for batches of at most {@code maxBatch} rows. */
  @Override
  public Workspace workspace(int maxBatch) {
    int[] widths = new int[layers.size() + 1];
    widths[0] = layers.get(0).in();
    for (int k = 0; k < layers.size(); k++) {
      widths[k + 1] = layers.get(k).out();
    }
    return new Workspace(widths, maxBatch, false);
  }

  /**
   * Forward with {@link Dropout}: the inputs are dropped first when {@code dropout.inputRetain() < 1} (as {@link
   * Mlp#forward}), then the hidden layers use {@code dropout.hiddenRetain()}.
   */
  @Override
  public Tensor forward(Workspace ws, int B, Dropout dropout, Rng rng) {
    ws.check(B);
    if (dropout.active() && dropout.inputRetain() < 1f) {
      Layers.dropoutForward(ws.acts[0], B, inputs(), dropout.inputRetain(), rng);
    }
    return forward(ws, B, dropout.active() ? dropout.hiddenRetain() : 1f, rng);
  }

  @Override
  public StepStats gradientAfterForward(Workspace ws, int B, int[] labels, int yOff, Tensor grads, Dropout dropout) {
    return backward(ws, B, labels, yOff, grads, dropout.active() ? dropout.hiddenRetain() : 1f);
  }

  /** Evaluation (no dropout): the summed loss and the error count over the first B rows. */
  @Override
  public StepStats evaluate(Workspace ws, int B, int[] labels, int yOff) {
    ws.check(B);
    Tensor logits = forward(ws, B, 1f, null);
    Layers.softmaxCrossEntropy(logits, labels, yOff, B, outputs(), null, ws.lossOut);
    return new StepStats(ws.lossOut[0], (int) ws.lossOut[1]);
  }

  /** Forward on the first B rows of {@code ws.input()}; returns the logits (B, classes). */
  public Tensor forward(Workspace ws, int B, float retain, Rng rng) {
    for (int k = 0; k < layers.size(); k++) {
      layers.get(k).forward(ws.acts[k + 1], ws.acts[k], params, B, retain, rng);
    }
    return ws.acts[layers.size()];
  }

  /** Forward, mean softmax cross-entropy and the gradient of every parameter into {@code grads}. */
  public StepStats lossAndGradient(Workspace ws, int B, int[] labels, int yOff, Tensor grads, float retain,
      Rng rng) {
    forward(ws, B, retain, rng);
    return backward(ws, B, labels, yOff, grads, retain);
  }

  private StepStats backward(Workspace ws, int B, int[] labels, int yOff, Tensor grads, float retain) {
    int L = layers.size();
    double[] out = ws.lossOut;
    Layers.softmaxCrossEntropy(ws.acts[L], labels, yOff, B, layers.get(L - 1).out(), ws.deltas[L], out);
    for (int k = L - 1; k >= 0; k--) {
      layers.get(k).backward(k > 0 ? ws.deltas[k] : null, grads, ws.deltas[k + 1], ws.acts[k + 1], ws.acts[k], params,
          B, retain);
    }
    return new StepStats(out[0] / B, (int) out[1]);
  }
}
