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

  /** Balanced initialization in place: W_l ~ N(0, 1/n_l), b_l = 0. Weights are drawn layer by layer, row-major. */
  public static void balanced(Mlp net, Rng rng) {
    ParamLayout lay = net.layout();
    Tensor p = net.params();
    for (int l = 0; l < lay.layers(); l++) {
      double std = 1.0 / Math.sqrt(lay.in(l));
      int off = lay.weightOffset(l);
      for (int i = 0, n = lay.weightSize(l); i < n; i++) {
        p.set(off + i, (float) (rng.nextGaussian() * std));
      }
      p.fill(lay.biasOffset(l), lay.out(l), 0f);
    }
  }

  /**
   * Balanced initialization of a network of layers in place, layer by layer: a convolution's weights W[f, c, i, j] ~
   * N(0, 1/(C·kh·kw)) (its fan-in), a dense layer's N(0, 1/in), each drawn row-major; biases zero; pooling has no
   * parameters. On a network of dense layers only this draws exactly what {@link #balanced(Mlp, Rng)} draws.
   */
  public static void balanced(LayerNet net, Rng rng) {
    Tensor p = net.params();
    for (Layer l : net.layers()) {
      int fanIn;
      int wOff;
      int wSize;
      int bOff;
      if (l instanceof Conv2d c) {
        fanIn = c.channels() * c.kernelHeight() * c.kernelWidth();
        wOff = c.weightOffset();
        wSize = c.filters() * fanIn;
        bOff = c.biasOffset();
      } else if (l instanceof Dense d) {
        fanIn = d.in();
        wOff = d.weightOffset();
        wSize = d.in() * d.out();
        bOff = d.biasOffset();
      } else {
        continue;
      }
      double std = 1.0 / Math.sqrt(fanIn);
      for (int i = 0; i < wSize; i++) {
        p.set(wOff + i, (float) (rng.nextGaussian() * std));
      }
      p.fill(bOff, l.paramOffset() + l.paramSize() - bOff, 0f);
    }
  }

  /** A new balanced network. */
  public static Mlp balanced(ParamLayout layout, Rng rng) {
    Mlp net = new Mlp(layout);
    balanced(net, rng);
    return net;
  }
}
