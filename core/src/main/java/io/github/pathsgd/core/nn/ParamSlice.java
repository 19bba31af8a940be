package io.github.pathsgd.core.nn;

import java.util.Arrays;

/**
 * One named parameter tensor of a {@link Layer}, as the layer declares it: its name ({@code weight}, {@code bias}),
 * where it starts in the network's parameter vector, its shape in PyTorch's order (a dense weight [out, in], a
 * convolution's [filters, channels, kh, kw], a bias [out]) and, for a weight, its fan-in (the inputs of one output
 * unit: in, or channels·kh·kw). The first dimension is always the layer's output units (its filters), the rows that
 * {@code weight} and {@code bias} share. Initialization, norms, rescaling and model-file names read these instead of
 * naming layer kinds.
 *
 * @param fanIn the weights per row of a weight, 0 for a bias
 */
public record ParamSlice(String name, int offset, int[] shape, int fanIn) {
  /** A weight of {@code rows} rows of {@code fanIn} weights, of PyTorch shape {@code shape} (rows first). */
  public static ParamSlice weight(int offset, int fanIn, int... shape) {
    return new ParamSlice("weight", offset, shape, fanIn);
  }

  /** A bias of {@code rows} values. */
  public static ParamSlice bias(int offset, int rows) {
    return new ParamSlice("bias", offset, new int[] {rows}, 0);
  }

  public ParamSlice {
    shape = shape.clone();
  }

  /** The shape (a copy). */
  @Override
  public int[] shape() {
    return shape.clone();
  }

  /** The output units (first dimension). */
  public int rows() {
    return shape[0];
  }

  /** The element count. */
  public int size() {
    int n = 1;
    for (int d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  /** The shape as {@code 8x1x5x5}. */
  public String shapeText() {
    StringBuilder sb = new StringBuilder();
    for (int d : shape) {
      sb.append(sb.length() == 0 ? "" : "x").append(d);
    }
    return sb.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ParamSlice s && s.name.equals(name) && s.offset == offset && Arrays.equals(s.shape, shape)
        && s.fanIn == fanIn;
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + offset * 17 + Arrays.hashCode(shape) + fanIn;
  }

  @Override
  public String toString() {
    return name + "[" + shapeText() + "]@" + offset;
  }
}
