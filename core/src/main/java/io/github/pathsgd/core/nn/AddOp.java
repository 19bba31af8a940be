package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;

/**
 * The sum of two nodes of one width, {@code out = a + b}: the join of a residual block's skip and its branch. In the
 * path picture each input unit has an edge of fixed weight 1 to the output unit of its index, so γ_in(out) = γ_in(a) +
 * γ_in(b) and both inputs receive γ_out(out) (max for p = ∞); its backward adds dL/d(out) into both inputs' errors, as
 * llm.c's {@code residual_backward}. It has no parameters, and ties unit i of a, b and out ({@link #tiedInputs()}).
 */
public final class AddOp implements Op {
  private final int a;
  private final int b;
  private final int width;

  /** {@code node a + node b}, both {@code width} wide. */
  public AddOp(int a, int b, int width) {
    if (width < 1) {
      throw new IllegalArgumentException("add: width must be positive, got " + width);
    }
    this.a = a;
    this.b = b;
    this.width = width;
  }

  @Override
  public String kind() {
    return "add";
  }

  @Override
  public int[] inputs() {
    return new int[] {a, b};
  }

  @Override
  public int out() {
    return width;
  }

  @Override
  public int in(int j) {
    return width;
  }

  @Override
  public void forward(Tensor out, Tensor[] ins, Tensor params, int B, float retain, Rng rng) {
    FloatBuffer x = ins[0].buffer();
    FloatBuffer z = ins[1].buffer();
    FloatBuffer y = out.buffer();
    for (int i = 0, m = B * width; i < m; i++) {
      y.put(i, x.get(i) + z.get(i));
    }
  }

  @Override
  public void backward(Tensor[] dins, boolean[] sole, Tensor grads, Tensor dout, Tensor out, Tensor[] ins,
      Tensor params, int B, float retain, Tensor tmp) {
    for (int j = 0; j < dins.length; j++) {
      if (dins[j] != null) {
        Op.accumulate(dins[j], dout, B * width, sole[j]);
      }
    }
  }

  @Override
  public void gammaForward(FloatBuffer params, double[][] gIns, double[] gOut, double p, boolean includeBiases) {
    boolean inf = Double.isInfinite(p);
    for (int i = 0; i < width; i++) {
      gOut[i] = inf ? Math.max(gIns[0][i], gIns[1][i]) : gIns[0][i] + gIns[1][i];
    }
  }

  @Override
  public void gammaBackward(FloatBuffer params, double[] gOut, double[][] gIns, double p, double[] tmp) {
    Op.accumulate(gIns[0], gOut, width, p);
    Op.accumulate(gIns[1], gOut, width, p);
  }

  @Override
  public int[] tiedInputs() {
    return new int[] {0, 1};
  }
}
