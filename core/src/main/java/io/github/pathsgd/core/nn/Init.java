package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;

/**
 * Parameter initializations.
 *
 * <p>The chapter's <b>balanced</b> initialization (Neyshabur et al., Path-SGD, NIPS 2015, §5): every incoming weight
 * of a unit is i.i.d. N(0, 1/fan-in), i.e. standard deviation {@code 1/sqrt(n_l)} for layer l, and the biases are
 * zero. Note this is not He initialization ({@code sqrt(2/fan-in)}). The unbalanced initialization, a rescaled
 * equivalent of the balanced one, lives with the rescaling code.
 */
public final class Init {
  private Init() {}

  /**
   * Balanced initialization of a network of layers in place, layer by layer, from the slices each layer declares
   * ({@link Layer#paramSlices}): every weight N(0, 1/fan-in) (a convolution's W[f, c, i, j] ~ N(0, 1/(C·kh·kw)), a
   * dense layer's N(0, 1/in)), drawn row-major; biases zero; pooling has no parameters. On a fully connected network
   * (W_0, b_0, W_1, b_1, ...) this is W_l ~ N(0, 1/n_l), b_l = 0, drawn layer by layer, row-major.
   */
  public static void balanced(LayerNet net, Rng rng) {
    Tensor p = net.params();
    for (Layer l : net.layers()) {
      for (ParamSlice s : l.paramSlices()) { // each weight N(0, 1/fan-in) row-major, each bias zero
        if (s.fanIn() == 0) {
          p.fill(s.offset(), s.size(), 0f);
          continue;
        }
        double std = 1.0 / Math.sqrt(s.fanIn());
        for (int i = 0, n = s.size(); i < n; i++) {
          p.set(s.offset() + i, (float) (rng.nextGaussian() * std));
        }
      }
    }
  }

  /** A new balanced network. */
  public static LayerNet balanced(DenseChain layout, Rng rng) {
    LayerNet net = LayerNet.dense(layout);
    balanced(net, rng);
    return net;
  }
}
