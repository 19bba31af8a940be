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
public final class LayerNet {
  private final List<Layer> layers;
  private final Tensor params;

  /** A network over {@code params} (not copied); consecutive layers must agree in width. */
  public LayerNet(List<Layer> layers, Tensor params) {
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
  }

  public List<Layer> layers() {
    return layers;
  }

  public Tensor params() {
    return params;
  }

  /** Activation and error buffers for batches of at most {@code maxBatch} rows. */
  public Workspace workspace(int maxBatch) {
    return new Workspace(this, maxBatch);
  }

  /** Forward on the first B rows of {@code ws.input()}; returns the logits (B, classes). */
  public Tensor forward(Workspace ws, int B, float retain, Rng rng) {
    for (int k = 0; k < layers.size(); k++) {
      layers.get(k).forward(ws.acts[k + 1], ws.acts[k], params, B, retain, rng);
    }
    return ws.acts[layers.size()];
  }

  /** Forward, mean softmax cross-entropy and the gradient of every parameter into {@code grads}. */
  public Mlp.StepStats lossAndGradient(Workspace ws, int B, int[] labels, int yOff, Tensor grads, float retain,
      Rng rng) {
    forward(ws, B, retain, rng);
    int L = layers.size();
    double[] out = ws.lossOut;
    Layers.softmaxCrossEntropy(ws.acts[L], labels, yOff, B, layers.get(L - 1).out(), ws.deltas[L], out);
    for (int k = L - 1; k >= 0; k--) {
      layers.get(k).backward(k > 0 ? ws.deltas[k] : null, grads, ws.deltas[k + 1], ws.acts[k + 1], ws.acts[k], params,
          B, retain);
    }
    return new Mlp.StepStats(out[0] / B, (int) out[1]);
  }

  /** Buffers of one network for a maximum batch. */
  public static final class Workspace {
    final Tensor[] acts;
    final Tensor[] deltas;
    final double[] lossOut = new double[2];

    Workspace(LayerNet net, int maxBatch) {
      int L = net.layers.size();
      acts = new Tensor[L + 1];
      deltas = new Tensor[L + 1];
      for (int k = 0; k <= L; k++) {
        int width = k == 0 ? net.layers.get(0).in() : net.layers.get(k - 1).out();
        acts[k] = new Tensor(Math.multiplyExact(maxBatch, width));
        deltas[k] = k == 0 ? null : new Tensor(Math.multiplyExact(maxBatch, width));
      }
    }

    public Tensor input() {
      return acts[0];
    }
  }
}
