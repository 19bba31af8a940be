package io.github.pathsgd.core.rnn;

import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.tensor.Tensor;
import java.nio.FloatBuffer;

/**
 * The float32 kernel of a single-layer ReLU RNN ({@link RnnLayout}): forward over a batch of sequences and
 * backpropagation through time, on OpenBLAS GEMMs over the batch. The output layer reads h_T only (sequence
 * classification, the adding problem); per-step outputs are not supported.
 *
 * <p>The cell owns its scratch, sized for {@code maxBatch} sequences of {@code steps} time steps when it is built;
 * {@link #forward} and {@link #backward} allocate nothing. Hidden states are stored time-major, so the input
 * projection of every step, dW_in and dW_rec are one GEMM each; the recurrence is one (B, H)·(H, H) GEMM per step
 * forward and one backward. Memory: {@code steps·maxBatch·(I + 2H)} floats.
 */
public final class RnnCell {
  private final RnnLayout layout;
  private final int steps;
  private final int maxBatch;
  private final Tensor xs; // (T, B, I) the inputs, time-major
  private final Tensor hs; // (T, B, H) h_1..h_T
  private final Tensor dpre; // (T, B, H) dL/d(pre-activation) per step
  private final float[] biasAcc; // (H) the bias gradient's sum
  private int lastBatch = -1;

  public RnnCell(RnnLayout layout, int steps, int maxBatch) {
    if (steps < 1 || maxBatch < 1) {
      throw new IllegalArgumentException("rnn: steps and batch must be positive, got steps=" + steps + " batch="
          + maxBatch);
    }
    long tb = (long) steps * maxBatch;
    if (tb * Math.max(layout.in(), layout.hidden()) > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("rnn: steps·batch·width " + tb * Math.max(layout.in(), layout.hidden())
          + " exceeds a tensor's int size");
    }
    this.layout = layout;
    this.steps = steps;
    this.maxBatch = maxBatch;
    this.xs = new Tensor((int) tb * layout.in());
    this.hs = new Tensor((int) tb * layout.hidden());
    this.dpre = new Tensor((int) tb * layout.hidden());
    this.biasAcc = new float[layout.hidden()];
  }

  public RnnLayout layout() {
    return layout;
  }

  public int steps() {
    return steps;
  }

  /** The largest batch the scratch holds. */
  public int maxBatch() {
    return maxBatch;
  }

  /**
   * y = W_out h_T + b_out for B sequences.
   *
   * @param x (B, T, I) row-major from {@code xOff}: sequence b's step t is at {@code xOff + (b·T + t)·I}
   * @param y (B, O), overwritten
   */
  public void forward(Tensor x, int xOff, int batch, Tensor params, Tensor y) {
    recur(x, xOff, batch, params, 0);
    final int H = layout.hidden();
    final int O = layout.out();
    final int BH = batch * H;
    final int B = batch;
    FloatBuffer pb = params.buffer();
    // y (B, O) = h_T (B, H) · W_outᵀ + b_out
    Blas.sgemm(false, true, B, O, H, 1f, hs, (steps - 1) * BH, H, params, layout.wOut(), H, 0f, y, 0, O);
    FloatBuffer yb = y.buffer();
    for (int r = 0; r < B; r++) {
      for (int o = 0; o < O; o++) {
        yb.put(r * O + o, yb.get(r * O + o) + pb.get(layout.bOut() + o));
      }
    }
  }

  /**
   * The recurrence alone, for a cell that is one op of a larger network: writes h_T (B, H) of B sequences into {@code
   * h} from {@code hOff}, with W_in, W_rec and b read from {@code params} at {@code off} + their offsets in the layout
   * (W_out and b_out are not read). {@link #backwardHidden} is its backward.
   *
   * @param x (B, T, I) row-major from {@code xOff}
   */
  public void forwardHidden(Tensor x, int xOff, int batch, Tensor params, int off, Tensor h, int hOff) {
    recur(x, xOff, batch, params, off);
    int n = batch * layout.hidden();
    FloatBuffer hb = hs.buffer();
    FloatBuffer ob = h.buffer();
    int last = (steps - 1) * n;
    for (int k = 0; k < n; k++) {
      ob.put(hOff + k, hb.get(last + k));
    }
  }

  /** h_1..h_T of B sequences into the scratch, the parameters at {@code off} + the layout's offsets. */
  private void recur(Tensor x, int xOff, int batch, Tensor params, int off) {
    checkBatch(batch);
    final int I = layout.in();
    final int H = layout.hidden();
    final int T = steps;
    final int B = batch;
    final int BH = B * H;
    FloatBuffer xb = x.buffer();
    FloatBuffer xsb = xs.buffer();
    // xs (T, B, I) ← x (B, T, I)
    for (int b = 0; b < B; b++) {
      for (int t = 0; t < T; t++) {
        int src = xOff + (b * T + t) * I;
        int dst = (t * B + b) * I;
        for (int i = 0; i < I; i++) {
          xsb.put(dst + i, xb.get(src + i));
        }
      }
    }
    // hs (T·B, H) = xs (T·B, I) · W_inᵀ
    Blas.sgemm(false, true, T * B, H, I, 1f, xs, 0, I, params, off + layout.wIn(), I, 0f, hs, 0, H);
    FloatBuffer hb = hs.buffer();
    FloatBuffer pb = params.buffer();
    int bOff = off + layout.b();
    for (int t = 0; t < T; t++) {
      int slot = t * BH;
      for (int r = 0; r < B; r++) {
        int row = slot + r * H;
        for (int j = 0; j < H; j++) {
          hb.put(row + j, hb.get(row + j) + pb.get(bOff + j));
        }
      }
      if (t > 0) { // hs[t] (B, H) += hs[t−1] (B, H) · W_recᵀ
        Blas.sgemm(false, true, B, H, H, 1f, hs, slot - BH, H, params, off + layout.wRec(), H, 1f, hs, slot, H);
      }
      for (int k = slot; k < slot + BH; k++) {
        float v = hb.get(k);
        if (!(v > 0f)) {
          hb.put(k, 0f);
        }
      }
    }
    lastBatch = B;
  }

  /**
   * Backpropagation through time of the last {@link #forward}: adds dL/dθ to {@code grads} (same layout as the
   * parameters; accumulates, never overwrites).
   *
   * @param dy (B, O) dL/dy
   */
  public void backward(Tensor dy, Tensor params, Tensor grads) {
    if (lastBatch < 0) {
      throw new IllegalStateException("rnn: backward before forward");
    }
    final int I = layout.in();
    final int H = layout.hidden();
    final int O = layout.out();
    final int T = steps;
    final int B = lastBatch;
    final int BH = B * H;
    final int last = (T - 1) * BH;
    // dW_out (O, H) += dyᵀ (O, B) · h_T (B, H); db_out += Σ_b dy
    Blas.sgemm(true, false, O, H, B, 1f, dy, 0, O, hs, last, H, 1f, grads, layout.wOut(), H);
    FloatBuffer db = dy.buffer();
    FloatBuffer gb = grads.buffer();
    for (int o = 0; o < O; o++) {
      float s = 0f;
      for (int r = 0; r < B; r++) {
        s += db.get(r * O + o);
      }
      gb.put(layout.bOut() + o, gb.get(layout.bOut() + o) + s);
    }
    // dh_T (B, H) = dy (B, O) · W_out (O, H), then through the ReLU
    Blas.sgemm(false, false, B, H, O, 1f, dy, 0, O, params, layout.wOut(), H, 0f, dpre, last, H);
    mask(last, BH);
    bptt(params, 0, grads);
  }

  /**
   * Backpropagation through time of the last {@link #forwardHidden} from {@code dh} = dL/dh_T (B, H) at {@code dhOff}:
   * adds dL/dW_in, dL/dW_rec and dL/db to {@code grads} at {@code off} + their layout offsets (accumulates).
   */
  public void backwardHidden(Tensor dh, int dhOff, Tensor params, int off, Tensor grads) {
    if (lastBatch < 0) {
      throw new IllegalStateException("rnn: backward before forward");
    }
    final int BH = lastBatch * layout.hidden();
    final int last = (steps - 1) * BH;
    FloatBuffer src = dh.buffer();
    FloatBuffer dp = dpre.buffer();
    for (int k = 0; k < BH; k++) {
      dp.put(last + k, src.get(dhOff + k));
    }
    mask(last, BH);
    bptt(params, off, grads);
  }

  /** From dpre_T (set and masked): dpre of every step, then the gradients of W_rec, W_in and b into grads at off. */
  private void bptt(Tensor params, int off, Tensor grads) {
    final int I = layout.in();
    final int H = layout.hidden();
    final int T = steps;
    final int B = lastBatch;
    final int BH = B * H;
    FloatBuffer gb = grads.buffer();
    for (int t = T - 1; t > 0; t--) { // dh_{t−1} (B, H) = dpre_t (B, H) · W_rec (H, H)
      Blas.sgemm(false, false, B, H, H, 1f, dpre, t * BH, H, params, off + layout.wRec(), H, 0f, dpre, (t - 1) * BH, H);
      mask((t - 1) * BH, BH);
    }
    if (T > 1) { // dW_rec (H, H) += dpre[1..T−1]ᵀ (H, (T−1)B) · hs[0..T−2] ((T−1)B, H)
      Blas.sgemm(true, false, H, H, (T - 1) * B, 1f, dpre, BH, H, hs, 0, H, 1f, grads, off + layout.wRec(), H);
    }
    // dW_in (H, I) += dpreᵀ (H, T·B) · xs (T·B, I)
    Blas.sgemm(true, false, H, I, T * B, 1f, dpre, 0, H, xs, 0, I, 1f, grads, off + layout.wIn(), I);
    // db (H) += Σ over the T·B rows of dpre, row by row (one pass over dpre)
    FloatBuffer dp = dpre.buffer();
    int bOff = off + layout.b();
    java.util.Arrays.fill(biasAcc, 0f);
    for (int row = 0; row < T * BH; row += H) {
      for (int j = 0; j < H; j++) {
        biasAcc[j] += dp.get(row + j);
      }
    }
    for (int j = 0; j < H; j++) {
      gb.put(bOff + j, gb.get(bOff + j) + biasAcc[j]);
    }
  }

  /** dpre[off..off+n) ×= [h > 0]. */
  private void mask(int off, int n) {
    FloatBuffer dp = dpre.buffer();
    FloatBuffer hb = hs.buffer();
    for (int k = off; k < off + n; k++) {
      if (!(hb.get(k) > 0f)) {
        dp.put(k, 0f);
      }
    }
  }

  /** h_t of sequence b in the last forward, unit j (t from 1 to T). */
  public float hidden(int t, int b, int j) {
    return hs.get(((t - 1) * lastBatch + b) * layout.hidden() + j);
  }

  private void checkBatch(int batch) {
    if (batch < 1 || batch > maxBatch) {
      throw new IllegalArgumentException("rnn: batch " + batch + " outside [1, " + maxBatch + "] (the cell's scratch)");
    }
  }
}
