package io.github.pathsgd.bench;

import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.LayerSpec;
import io.github.pathsgd.core.nn.ParamSlice;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.util.List;

/**
 * A conv net for {@code pathsgd bench --conv}: a layer list such as {@code
 * conv(32,3,pad=1),maxpool(2),conv(64,3,pad=1),maxpool(2),dense(256)} on a C×H×W input, with the linear output layer
 * (one unit per class) added. The list is {@link LayerSpec}'s syntax, the one of {@code pathsgd train --layers}, read
 * by {@link LayerSpec#parse} and built by {@link LayerSpec#build}; this record only adds the "CxHxW" shape string, the
 * benchmark's initialization ({@link #init}) and its FLOP count ({@link #stepFlops}).
 *
 * @param text the spec as given
 * @param channels input channels C
 * @param height input height H
 * @param width input width W
 * @param classes output units
 * @param layers the layers, parameters packed in order from offset 0
 * @param paramCount the size of the parameter vector
 */
public record ConvNetSpec(String text, int channels, int height, int width, int classes, List<Layer> layers,
    int paramCount) {
  /** The CIFAR-10 net. */
  public static final String CIFAR10 = "conv(32,3,pad=1),maxpool(2),conv(64,3,pad=1),maxpool(2),dense(256)";

  /** The CIFAR-10 residual net ({@code bench --residual}): a conv, two blocks of two 3×3 convs, a pool. */
  public static final String CIFAR10_RESIDUAL = "conv(16,3,pad=1),res(conv(16,3,pad=1),conv(16,3,pad=1)),"
      + "res(conv(16,3,pad=1),conv(16,3,pad=1)),maxpool(2)";

  /**
   * Parses {@code spec} (by {@link LayerSpec#parse}) for a {@code shape} "CxHxW" input and {@code classes} outputs and
   * builds its layers (by {@link LayerSpec#build}); refuses, naming the value, a malformed shape, non-positive classes
   * and whatever {@link LayerSpec} refuses.
   */
  public static ConvNetSpec parse(String spec, String shape, int classes) {
    String[] dims = shape.trim().split("x");
    int[] chw = new int[3];
    if (dims.length != 3) {
      throw new IllegalArgumentException("shape: expected CxHxW such as 3x32x32, got '" + shape + "'");
    }
    for (int i = 0; i < 3; i++) {
      chw[i] = positive(dims[i], shape);
    }
    if (classes < 1) {
      throw new IllegalArgumentException("classes: must be positive, got " + classes);
    }
    LayerNet net = LayerSpec.parse(spec).build(chw[0], chw[1], chw[2], classes);
    return new ConvNetSpec(spec, chw[0], chw[1], chw[2], classes, net.layers(), net.params().size());
  }

  /** "3x32x32". */
  public String shape() {
    return channels + "x" + height + "x" + width;
  }

  /** Input width C·H·W. */
  public int inputSize() {
    return channels * height * width;
  }

  /**
   * He-normal weights (N(0, 2/fan-in), fan-in = C·KH·KW for a convolution, the input width for a dense layer) and zero
   * biases, from {@code rng}.
   */
  public Tensor init(Rng rng) {
    Tensor p = new Tensor(paramCount);
    for (Layer l : layers) {
      for (ParamSlice s : l.paramSlices()) {
        if (s.fanIn() == 0) {
          continue; // a bias: zero
        }
        double sd = Math.sqrt(2.0 / s.fanIn());
        for (int i = 0, n = s.size(); i < n; i++) {
          p.set(s.offset() + i, (float) (rng.nextGaussian() * sd));
        }
      }
    }
    return p;
  }

  /**
   * FLOPs of one training step: 2·B per multiply-add of the forward pass of every conv and dense layer, the same for
   * the weight gradients, and the same again for the input gradients of every layer but the first (pooling and the
   * skips' additions excluded; a residual block counts its inner layers).
   */
  public double stepFlops(int batch) {
    double f = 0;
    boolean first = true;
    for (Layer block : layers) {
      for (Layer l : block.parts()) { // a residual block's inner layers with parameters, else the layer itself
        // every output value (out() of them) is one fan-in's worth of multiply-adds
        double mac = (double) l.out() * l.paramSlices().get(0).fanIn();
        f += 2 * mac * batch * (first ? 2 : 3);
        first = false;
      }
    }
    return f;
  }

  /** A dimension of {@code shape}: a positive integer. */
  private static int positive(String s, String shape) {
    int v;
    try {
      v = Integer.parseInt(s.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--conv: shape '" + shape + "': expected an integer, got '" + s.trim() + "'");
    }
    if (v < 1) {
      throw new IllegalArgumentException("--conv: shape '" + shape + "': expected a positive integer, got '" + s.trim()
          + "'");
    }
    return v;
  }
}
