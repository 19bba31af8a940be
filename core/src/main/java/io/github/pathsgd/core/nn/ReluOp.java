package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;

/**
 * ReLU followed by inverted dropout (keep probability {@code retain}, the hidden layers' rate), as an op of its own so
 * that a block can add before its ReLU: {@code out = relu(inp)}. In the path picture it is the identity (an edge of
 * weight 1 per unit; positive homogeneity makes it commute with a node rescaling), so γ passes through unchanged and
 * unit i of its input and output are tied.
 */
public final class ReluOp implements Op {
  private final int input;
  private final int width;

  /** ReLU of node {@code input}, {@code width} wide. */
  public ReluOp(int input, int width) {
    if (width < 1) {
      throw new IllegalArgumentException("relu: width must be positive, got " + width);
    }
    this.input = input;
    this.width = width;
  }

  @Override
  public String kind() {
    return "relu";
  }

  @Override
  public int[] inputs() {
    return new int[] {input};
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
    FloatBuffer y = out.buffer();
    float scale = retain >= 1f ? 1f : 1f / retain;
    for (int i = 0, m = B * width; i < m; i++) {
      float a = Math.max(x.get(i), 0f);
      if (retain < 1f) {
        a = rng.nextFloat() < retain ? a * scale : 0f;
      }
      y.put(i, a);
    }
  }

  @Override
  public void backward(Tensor[] dins, boolean[] sole, Tensor grads, Tensor dout, Tensor out, Tensor[] ins,
      Tensor params, int B, float retain, Tensor tmp) {
    Layers.reluDropoutBackward(dout, out, B, width, retain);
    if (dins[0] != null) {
      Op.accumulate(dins[0], dout, B * width, sole[0]);
    }
  }

  @Override
  public void gammaForward(FloatBuffer params, double[][] gIns, double[] gOut, double p, boolean includeBiases) {
    System.arraycopy(gIns[0], 0, gOut, 0, width);
  }

  @Override
  public void gammaBackward(FloatBuffer params, double[] gOut, double[][] gIns, double p, double[] tmp) {
    Op.accumulate(gIns[0], gOut, width, p);
  }

  @Override
  public boolean relu() {
    return true;
  }

  @Override
  public int[] tiedInputs() {
    return new int[] {0};
  }
}
