package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;

/**
 * The layers of a fully connected ReLU network, llm.c style: one forward and one backward function per layer, on flat
 * row-major float32 buffers, with the shapes in comments. B is the batch size, I a layer's input width, O its output
 * width. Backward functions overwrite their outputs (they do not accumulate).
 */
public final class Layers {
  private Layers() {}

  /**
   * Linear forward without the bias: {@code out = inp · Wᵀ}.
   *
   * <pre>
   * inp is (B, I), W is (O, I) at params[wOff], out is (B, O)
   * </pre>
   */
  public static void linearForward(Tensor out, Tensor inp, Tensor params, int wOff, int B, int I, int O) {
    Blas.sgemm(false, true, B, O, I, 1f, inp, 0, I, params, wOff, I, 0f, out, 0, O);
  }

  /** Adds the bias to every row: {@code z[b, o] += bias[o]}; z is (B, O), bias is (O) at params[bOff]. */
  public static void biasForward(Tensor z, Tensor params, int bOff, int B, int O) {
    FloatBuffer zb = z.buffer();
    FloatBuffer pb = params.buffer();
    for (int b = 0; b < B; b++) {
      int row = b * O;
      for (int o = 0; o < O; o++) {
        zb.put(row + o, zb.get(row + o) + pb.get(bOff + o));
      }
    }
  }

  /**
   * Bias, ReLU and (inverted) dropout in one pass, in place: {@code a = max(z + bias, 0) · m / r}, where {@code m ~
   * Bernoulli(r)} per unit and r is the retain probability. With {@code retain == 1} no random number is drawn.
   *
   * <p>Inverted dropout: the surviving activations are scaled by 1/r at training time, so evaluation uses the network
   * as it is, with no rescaling. The stored output alone determines the backward mask: a unit passes gradient iff its
   * output is {@code > 0}.
   *
   * <pre>
   * z is (B, O) and becomes a; bias is (O) at params[bOff]
   * </pre>
   */
  public static void biasReluDropoutForward(Tensor z, Tensor params, int bOff, int B, int O, float retain, Rng rng) {
    FloatBuffer zb = z.buffer();
    FloatBuffer pb = params.buffer();
    if (retain >= 1f) {
      for (int b = 0; b < B; b++) {
        int row = b * O;
        for (int o = 0; o < O; o++) {
          zb.put(row + o, Math.max(zb.get(row + o) + pb.get(bOff + o), 0f));
        }
      }
      return;
    }
    float scale = 1f / retain;
    for (int b = 0; b < B; b++) {
      int row = b * O;
      for (int o = 0; o < O; o++) {
        float keep = rng.nextFloat() < retain ? scale : 0f;
        zb.put(row + o, Math.max(zb.get(row + o) + pb.get(bOff + o), 0f) * keep);
      }
    }
  }

  /**
   * Inverted dropout on an input batch, in place: {@code x = x · m / r}. Used only when input dropout is enabled.
   *
   * <pre>
   * x is (B, I)
   * </pre>
   */
  public static void dropoutForward(Tensor x, int B, int I, float retain, Rng rng) {
    FloatBuffer xb = x.buffer();
    float scale = 1f / retain;
    for (int i = 0, n = B * I; i < n; i++) {
      xb.put(i, rng.nextFloat() < retain ? xb.get(i) * scale : 0f);
    }
  }

  /**
   * Backward of {@link #biasReluDropoutForward}, in place: {@code d = d · [a > 0] / r}.
   *
   * <pre>
   * d is (B, O): dL/da on entry, dL/dz on exit; a is the layer's stored output (B, O)
   * </pre>
   */
  public static void reluDropoutBackward(Tensor d, Tensor a, int B, int O, float retain) {
    FloatBuffer db = d.buffer();
    FloatBuffer ab = a.buffer();
    float scale = retain >= 1f ? 1f : 1f / retain;
    for (int i = 0, n = B * O; i < n; i++) {
      // branch-free: signum(a) is 1 for a > 0 and 0 for a == 0 (a is never negative here)
      db.put(i, db.get(i) * Math.signum(ab.get(i)) * scale);
    }
  }

  /**
   * Linear backward: the weight gradient {@code dW = doutᵀ · inp}, the bias gradient {@code db = Σ_b dout[b, :]}, and,
   * when {@code dinp} is not null, the input gradient {@code dinp = dout · W}.
   *
   * <pre>
   * dout is (B, O), inp is (B, I), W is (O, I) at params[wOff]
   * dW is (O, I) at grads[wOff], db is (O) at grads[bOff], dinp is (B, I)
   * </pre>
   */
  public static void linearBackward(Tensor dinp, Tensor grads, int wOff, int bOff, Tensor dout, Tensor inp,
      Tensor params, int B, int I, int O) {
    Blas.sgemm(true, false, O, I, B, 1f, dout, 0, O, inp, 0, I, 0f, grads, wOff, I);
    biasBackward(grads, bOff, dout, B, O);
    if (dinp != null) {
      Blas.sgemm(false, false, B, I, O, 1f, dout, 0, O, params, wOff, I, 0f, dinp, 0, I);
    }
  }

  /** {@code db[o] = Σ_b dout[b, o]}; dout is (B, O), db is (O) at grads[bOff]. */
  public static void biasBackward(Tensor grads, int bOff, Tensor dout, int B, int O) {
    FloatBuffer gb = grads.buffer();
    FloatBuffer db = dout.buffer();
    for (int o = 0; o < O; o++) {
      gb.put(bOff + o, 0f);
    }
    for (int b = 0; b < B; b++) {
      int row = b * O;
      for (int o = 0; o < O; o++) {
        gb.put(bOff + o, gb.get(bOff + o) + db.get(row + o));
      }
    }
  }

  /**
   * The SGD step of a bias, from the layer's back-propagated error: {@code bias[o] -= lr · Σ_b dout[b, o]} (the sum in
   * float, over b in order, in {@code sum}).
   *
   * <pre>
   * dout is (B, O); bias is (O) at params[bOff]; sum is scratch of at least O floats
   * </pre>
   */
  public static void biasSgdStep(Tensor params, int bOff, Tensor dout, int B, int O, float lr, float[] sum) {
    FloatBuffer db = dout.buffer();
    FloatBuffer pb = params.buffer();
    java.util.Arrays.fill(sum, 0, O, 0f);
    for (int b = 0; b < B; b++) {
      int row = b * O;
      for (int o = 0; o < O; o++) {
        sum[o] += db.get(row + o);
      }
    }
    for (int o = 0; o < O; o++) {
      pb.put(bOff + o, pb.get(bOff + o) - lr * sum[o]);
    }
  }

  /**
   * Softmax cross-entropy, forward and backward fused. The loss is the mean over the batch of
   * {@code -log softmax(logits[b])[y_b]}, computed with a stable log-sum-exp in double per row. When {@code dlogits} is
   * not null it receives {@code (softmax(logits) - onehot(y)) / B}; it may be the same tensor as {@code logits}.
   *
   * <pre>
   * logits is (B, C); labels[yOff + b] in [0, C); dlogits is (B, C)
   * </pre>
   *
   * @param out receives the summed (not averaged) loss over the batch in {@code out[0]} and the count of
   *     misclassified rows (arg max, first index on ties) in {@code out[1]}
   */
  public static void softmaxCrossEntropy(Tensor logits, int[] labels, int yOff, int B, int C, Tensor dlogits,
      double[] out) {
    FloatBuffer lb = logits.buffer();
    FloatBuffer gb = dlogits == null ? null : dlogits.buffer();
    double lossSum = 0;
    int errors = 0;
    float invB = 1f / B;
    for (int b = 0; b < B; b++) {
      int row = b * C;
      int y = labels[yOff + b];
      if (y < 0 || y >= C) {
        throw new IllegalArgumentException("label " + y + " at batch row " + b + " is outside [0, " + C + ")");
      }
      float max = Float.NEGATIVE_INFINITY;
      int arg = 0;
      for (int c = 0; c < C; c++) {
        float v = lb.get(row + c);
        if (v > max) {
          max = v;
          arg = c;
        }
      }
      if (arg != y) {
        errors++;
      }
      double sum = 0;
      for (int c = 0; c < C; c++) {
        sum += Math.exp((double) lb.get(row + c) - max);
      }
      double logZ = (double) max + Math.log(sum);
      lossSum += logZ - lb.get(row + y);
      if (gb != null) {
        for (int c = 0; c < C; c++) {
          double p = Math.exp((double) lb.get(row + c) - logZ);
          gb.put(row + c, (float) ((p - (c == y ? 1.0 : 0.0)) * invB));
        }
      }
    }
    out[0] = lossSum;
    out[1] = errors;
  }
}
