package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * A chain op: one {@link Layer} (dense, convolution, pooling; its ReLU and dropout fused when it is hidden) reading the
 * node before it. The layer's own kernels, sweeps and κ run unchanged; its backward, which writes dL/d(inp), writes
 * into the workspace's scratch and is added into the input's error buffer (0 + v = v: a chain gives the same bits as
 * the layer alone), and likewise its γ backward.
 */
public final class LayerOp implements Op {
  private final Layer layer;
  private final int[] inputs;

  /** {@code layer} reading node {@code input}. */
  public LayerOp(Layer layer, int input) {
    this.layer = layer;
    this.inputs = new int[] {input};
  }

  /** The layer the op runs. */
  @Override
  public Layer layer() {
    return layer;
  }

  @Override
  public String kind() {
    return layer.kind();
  }

  @Override
  public boolean relu() {
    return layer.relu();
  }

  /** A layer without parameters (pooling) passes channel ch of its input to channel ch: tied; others none. */
  @Override
  public int[] tiedInputs() {
    return layer.paramSize() == 0 ? new int[] {0} : new int[0];
  }

  @Override
  public int[] inputs() {
    return inputs.clone();
  }

  @Override
  public int out() {
    return layer.out();
  }

  @Override
  public List<ParamSlice> params() {
    return layer.paramSlices();
  }

  @Override
  public int in(int j) {
    return layer.in();
  }

  @Override
  public void forward(Tensor out, Tensor[] ins, Tensor params, int B, float retain, Rng rng) {
    layer.forward(out, ins[0], params, B, retain, rng);
  }

  @Override
  public void backward(Tensor[] dins, boolean[] sole, Tensor grads, Tensor dout, Tensor out, Tensor[] ins,
      Tensor params, int B, float retain, Tensor tmp) {
    if (dins[0] == null || sole[0]) { // the layer writes its input's error: straight into it when nobody else adds
      layer.backward(dins[0], grads, dout, out, ins[0], params, B, retain);
      return;
    }
    layer.backward(tmp, grads, dout, out, ins[0], params, B, retain);
    Op.accumulate(dins[0], tmp, B * layer.in());
  }

  @Override
  public void gammaForward(FloatBuffer params, double[][] gIns, double[] gOut, double p, boolean includeBiases) {
    layer.gammaForward(params, gIns[0], gOut, p, includeBiases);
  }

  @Override
  public void gammaBackward(FloatBuffer params, double[] gOut, double[][] gIns, double p, double[] tmp) {
    layer.gammaBackward(params, gOut, tmp, p);
    Op.accumulate(gIns[0], tmp, layer.in(), p);
  }

  @Override
  public void kappa(FloatBuffer params, double[][] gIns, double[] gOut, double p, double[] kappa) {
    layer.kappa(params, gIns[0], gOut, p, kappa);
  }
}
