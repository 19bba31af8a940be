package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;

/**
 * A parameter-free 2-D pooling layer over k × k windows with stride s, no padding, channel by channel: the shared
 * shape logic and path sweeps of {@link AvgPool2d} and {@link MaxPool2d}. For the path geometry a pooling node (c, y,
 * x) has one incoming edge from every input node of its window, with a fixed weight {@link #edgeWeight()}: 1/k² for
 * average pooling, 1 for max pooling (see {@link MaxPool2d}). The fixed weights' p-th powers enter the γ sweeps; they
 * have no κ (nothing to train).
 *
 * <pre>
 * inp is (B, C, H, W), out is (B, C, Ho, Wo), Ho = (H − k)/s + 1, Wo = (W − k)/s + 1
 * </pre>
 */
abstract class Pool2d implements Layer {
  final int c;
  final int h;
  final int w;
  final int k;
  final int stride;
  final int ho;
  final int wo;
  private final int offset;

  Pool2d(int channels, int height, int width, int k, int stride, int paramOffset) {
    if (channels < 1 || height < 1 || width < 1 || k < 1 || stride < 1 || k > height || k > width || paramOffset < 0) {
      throw new IllegalArgumentException(getClass().getSimpleName() + ": window " + k + " and stride " + stride
          + " must be positive and fit the " + channels + "x" + height + "x" + width + " input");
    }
    this.c = channels;
    this.h = height;
    this.w = width;
    this.k = k;
    this.stride = stride;
    this.ho = (height - k) / stride + 1;
    this.wo = (width - k) / stride + 1;
    this.offset = paramOffset;
  }

  /** The fixed weight of every edge into a pooling node, for the path sweeps. */
  abstract double edgeWeight();

  /** Channels C (the same in and out). */
  public int channels() {
    return c;
  }

  /** The window size k. */
  public int window() {
    return k;
  }

  public int stride() {
    return stride;
  }

  public int outHeight() {
    return ho;
  }

  public int outWidth() {
    return wo;
  }

  @Override
  public int in() {
    return c * h * w;
  }

  @Override
  public int out() {
    return c * ho * wo;
  }

  @Override
  public int paramOffset() {
    return offset;
  }

  @Override
  public int paramSize() {
    return 0;
  }

  @Override
  public void gammaForward(FloatBuffer params, double[] gIn, double[] gOut, double p, boolean includeBiases) {
    boolean inf = Double.isInfinite(p);
    double e = Dense.powAbs(edgeWeight(), p);
    for (int ch = 0; ch < c; ch++) {
      for (int y = 0; y < ho; y++) {
        for (int x = 0; x < wo; x++) {
          double acc = 0;
          for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
              double t = e * gIn[(ch * h + y * stride + i) * w + x * stride + j];
              acc = inf ? Math.max(acc, t) : acc + t;
            }
          }
          gOut[(ch * ho + y) * wo + x] = acc;
        }
      }
    }
  }

  @Override
  public void gammaBackward(FloatBuffer params, double[] gOut, double[] gIn, double p) {
    boolean inf = Double.isInfinite(p);
    double e = Dense.powAbs(edgeWeight(), p);
    java.util.Arrays.fill(gIn, 0, in(), 0.0);
    for (int ch = 0; ch < c; ch++) {
      for (int y = 0; y < ho; y++) {
        for (int x = 0; x < wo; x++) {
          double t = e * gOut[(ch * ho + y) * wo + x];
          for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
              int at = (ch * h + y * stride + i) * w + x * stride + j;
              gIn[at] = inf ? Math.max(gIn[at], t) : gIn[at] + t;
            }
          }
        }
      }
    }
  }

  @Override
  public void kappa(double[] gIn, double[] gOut, double p, double[] kappa) {
    // no parameters
  }

  /** Whether the windows tile the input: stride k and both sizes multiples of k (every input in one window). */
  boolean tiles() {
    return stride == k && ho * k == h && wo * k == w;
  }

  /** Floats of the input of one chunk at most (2 MiB), unless one image needs more. */
  static final int CHUNK_BUDGET = 1 << 19;

  /** The step scratch: heap copies of a chunk's input, output (or its error) and input error. */
  static final class Buffers implements Scratch {
    float[] inA;
    float[] outA;
    float[] dA;
  }

  /** The images per chunk for a batch of {@code B}. */
  int chunk(int B) {
    return Math.max(1, Math.min(B, CHUNK_BUDGET / in()));
  }

  /** The step scratch for batches of up to {@code maxBatch} rows: the buffers of one chunk. */
  @Override
  public Scratch scratch(int maxBatch) {
    return buffers(null, chunk(Math.max(1, maxBatch)));
  }

  /**
   * {@code s} ({@link #scratch}; null: new buffers for this call) with the heap buffers of a chunk of {@code chunk}
   * images (made again only when a larger chunk comes: allocation-free in steady state). The passes run on heap copies
   * (loops the JIT compiles well; the direct buffers are read and written by bulk copies).
   */
  Buffers buffers(Scratch s, int chunk) {
    Buffers b = s == null ? new Buffers() : (Buffers) s;
    if (b.inA == null || b.inA.length < chunk * in()) {
      b.inA = new float[chunk * in()];
      b.outA = new float[chunk * out()];
      b.dA = new float[chunk * in()];
    }
    return b;
  }

  /** The pass on step scratch made for the call: {@code forward(..., rng, null)}. */
  @Override
  public final void forward(Tensor out, Tensor inp, Tensor params, int B, float retain, Rng rng) {
    forward(out, inp, params, B, retain, rng, null);
  }

  /** The pass on step scratch made for the call: {@code backward(..., retain, null)}. */
  @Override
  public final void backward(Tensor dinp, Tensor grads, Tensor dout, Tensor a, Tensor inp, Tensor params, int B,
      float retain) {
    backward(dinp, grads, dout, a, inp, params, B, retain, null);
  }
}
