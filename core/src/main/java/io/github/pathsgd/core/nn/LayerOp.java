package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * A chain op: one {@link Layer} (dense, convolution, pooling; its ReLU and dropout fused when it is hidden) reading the
 * node before it. The layer's own kernels, sweeps and κ run unchanged; its backward writes dL/d(inp) straight into the
 * input's error buffer when the op is that node's only reader, else into the workspace's scratch, then added into it
 * (0 + v = v: a chain gives the same bits as the layer alone); its γ backward is added likewise. The layer's scratch, step and sweep, comes from the workspace and the
 * sweep ({@link #scratch}, {@link #sweepScratch}).
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

  /** The layer's step scratch ({@link Layer#scratch}). */
  @Override
  public Layer.Scratch scratch(int maxBatch) {
    return layer.scratch(maxBatch);
  }

  /** The layer's sweep scratch ({@link Layer#sweepScratch}). */
  @Override
  public Layer.Scratch sweepScratch() {
    return layer.sweepScratch();
  }

  @Override
  public void forward(Tensor out, Tensor[] ins, Tensor params, int B, float retain, Rng rng) {
    forward(out, ins, params, B, retain, rng, null);
  }

  @Override
  public void forward(Tensor out, Tensor[] ins, Tensor params, int B, float retain, Rng rng, Layer.Scratch s) {
    layer.forward(out, ins[0], params, B, retain, rng, s);
  }

  @Override
  public void backward(Tensor[] dins, boolean[] sole, Tensor grads, Tensor dout, Tensor out, Tensor[] ins,
      Tensor params, int B, float retain, Tensor tmp) {
    backward(dins, sole, grads, dout, out, ins, params, B, retain, tmp, null);
  }

  @Override
  public void backward(Tensor[] dins, boolean[] sole, Tensor grads, Tensor dout, Tensor out, Tensor[] ins,
      Tensor params, int B, float retain, Tensor tmp, Layer.Scratch s) {
    if (dins[0] == null || sole[0]) { // the layer writes its input's error: straight into it when nobody else adds
      layer.backward(dins[0], grads, dout, out, ins[0], params, B, retain, s);
      return;
    }
    layer.backward(tmp, grads, dout, out, ins[0], params, B, retain, s);
    Op.accumulate(dins[0], tmp, B * layer.in());
  }

  @Override
  public void gammaForward(FloatBuffer params, double[][] gIns, double[] gOut, double p, boolean includeBiases) {
    gammaForward(params, gIns, gOut, p, includeBiases, null);
  }

  @Override
  public void gammaForward(FloatBuffer params, double[][] gIns, double[] gOut, double p, boolean includeBiases,
      Layer.Scratch s) {
    layer.gammaForward(params, gIns[0], gOut, p, includeBiases, s);
  }

  @Override
  public void gammaBackward(FloatBuffer params, double[] gOut, double[][] gIns, double p, double[] tmp) {
    gammaBackward(params, gOut, gIns, p, tmp, null);
  }

  @Override
  public void gammaBackward(FloatBuffer params, double[] gOut, double[][] gIns, double p, double[] tmp,
      Layer.Scratch s) {
    layer.gammaBackward(params, gOut, tmp, p, s);
    Op.accumulate(gIns[0], tmp, layer.in(), p);
  }

  @Override
  public void kappa(FloatBuffer params, double[][] gIns, double[] gOut, double p, double[] kappa) {
    kappa(params, gIns, gOut, p, kappa, null);
  }

  @Override
  public void kappa(FloatBuffer params, double[][] gIns, double[] gOut, double p, double[] kappa, Layer.Scratch s) {
    layer.kappa(params, gIns[0], gOut, p, kappa, s);
  }
}
