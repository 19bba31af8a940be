package io.github.pathsgd.core.rnn;

import io.github.pathsgd.core.tensor.Blas;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

/**
 * The path norm φ_p and Path-SGD's κ of a ReLU RNN unrolled over T steps (docs/rnn.md, arXiv:1605.07154). Every
 * unrolled edge carries a weight shared across time; paths start at an input or a bias (a hidden bias b_j at any step,
 * or an output bias) and end at an output; h_0 = 0 starts none. With A = |W|^p entrywise:
 *
 * <ul>
 *   <li>in-norms, forward all-ones sweep: g_1 = a, g_t = a + A_rec g_{t−1}, with a_j = Σ_i A_in[j,i] + A_b[j];
 *   <li>out-norms, backward sweep: o_T[j] = Σ_o A_out[o,j], o_t = A_recᵀ o_{t+1};
 *   <li>φ_p^p = Σ_o (Σ_j A_out[o,j] g_T[j] + A_bout[o]);
 *   <li>S^(1) (each path counted k times, k its uses of the weight): W_in[j,i] and b_j: Σ_t o_t[j]; W_rec[a,b]:
 *       Σ_{t=2..T} o_t[a] g_{t−1}[b]; W_out[o,j]: g_T[j]; b_out: 1. κ^(1) = (S^(1))^{2/p};
 *   <li>S^(2) (p = 2: k(k−1) per path, ordered pairs of distinct uses of one W_rec weight on a path):
 *       S^(2)[a,b] = 2 w_ab² Σ_{1 ≤ t &lt; t′ ≤ T} g_{t−1}[b] (M^{t′−t−1})[b,a] o_{t′}[a] with M = A_rec and g_0 = 0,
 *       computed by the recurrence Q_{t′+1} = Q_{t′} M + diag(g_{t′−1}), Q_2 = diag(g_1), summing Q_{t′} diag(o_{t′}):
 *       T−3 double GEMMs (H, H)·(H, H), so O(T·H³) time and O(H²) memory besides the sweeps' O(T·H). For p = 1,
 *       k^p − k = 0 and S^(2) = 0; other p have no pair form (docs/rnn.md) and are refused.
 * </ul>
 *
 * <p>Range: every g_t and o_t is a double vector with its own binary exponent, renormalized each step, and the sums
 * carry exponents too ({@link RnnKappa}), so T = 784 steps of a recurrent matrix with spectral radius above 1 stay in
 * range. A value smaller than about 2^−1000 times the largest of its block (the vector of one step, W_rec's S^(1) or
 * Q) underflows to 0 (its κ then reads 0, and {@link RnnKappa#divide} makes no step on it unless a floor is set).
 * The sweeps are plain loops (O(T·H²)); the W_rec sum of S^(1) is one double GEMM.
 *
 * <p>The object owns its scratch for one (layout, T, p); {@link #kappa} reuses it and the returned {@link RnnKappa}.
 */
public final class RnnGeometry {
  private static final int ZERO = Integer.MIN_VALUE / 8;

  private final RnnLayout l;
  private final int steps;
  private final double p;
  private final double[] w;
  private final double[] ap; // |w|^p
  private final double[] g; // (T, H) in-norm mantissas of h_1..h_T
  private final int[] ge;
  private final double[] o; // (T, H) out-norm mantissas
  private final int[] oe;
  private final double[] a;
  private final double[] mt; // (H, H) A_recᵀ, so that the in-norm sweep runs along rows
  private final double[] mrec; // (H, H) A_rec, for the out-norm sweep
  private final DoubleBuffer os; // (T, H) o_t scaled for the W_rec sum
  private final DoubleBuffer gs; // (T, H) g_t
  private final DoubleBuffer rec; // (H, H) S^(1) of W_rec mantissas
  private final DoubleBuffer mm; // (H, H) M
  private DoubleBuffer q; // (H, H)
  private DoubleBuffer qn; // (H, H)
  private final double[] k2; // (H, H) K2acc[b, a]
  private final RnnKappa out;
  private double phiMant;
  private int phiExp;

  /** Geometry of {@code layout} unrolled over {@code steps} steps, for the path norm with exponent p in [1, ∞). */
  public RnnGeometry(RnnLayout layout, int steps, double p) {
    if (steps < 1) {
      throw new IllegalArgumentException("rnn geometry: steps must be positive, got " + steps);
    }
    if (!(p >= 1) || Double.isInfinite(p)) {
      throw new IllegalArgumentException("rnn geometry: p must be in [1, ∞), got " + p);
    }
    int H = layout.hidden();
    this.l = layout;
    this.steps = steps;
    this.p = p;
    this.w = new double[layout.size()];
    this.ap = new double[layout.size()];
    this.g = new double[steps * H];
    this.ge = new int[steps];
    this.o = new double[steps * H];
    this.oe = new int[steps];
    this.a = new double[H];
    this.mt = new double[H * H];
    this.mrec = new double[H * H];
    this.os = direct(steps * H);
    this.gs = direct(steps * H);
    this.rec = direct(H * H);
    this.mm = direct(H * H);
    this.q = direct(H * H);
    this.qn = direct(H * H);
    this.k2 = new double[H * H];
    this.out = new RnnKappa(layout);
  }

  private static DoubleBuffer direct(int n) {
    return ByteBuffer.allocateDirect(n * Double.BYTES).order(ByteOrder.nativeOrder()).asDoubleBuffer();
  }

  public double p() {
    return p;
  }

  /** κ of float parameters (copied into the scratch in double). */
  public RnnKappa kappa(FloatBuffer params, int off, boolean second) {
    for (int i = 0; i < w.length; i++) {
      w[i] = params.get(off + i);
    }
    return compute(second);
  }

  /**
   * Computes the sweeps, φ_p and S^(1) of {@code params}, and S^(2) when {@code second}; returns the reused result.
   *
   * @throws IllegalArgumentException when {@code second} and p is neither 1 nor 2
   */
  public RnnKappa kappa(double[] params, boolean second) {
    System.arraycopy(params, 0, w, 0, w.length);
    return compute(second);
  }

  /** φ_p of {@code params} (infinity beyond the double range; see {@link #log2PathNorm}). */
  public double pathNorm(double[] params) {
    System.arraycopy(params, 0, w, 0, w.length);
    sweeps();
    return RnnKappa.power(phiMant, phiExp, 1 / p);
  }

  /** log₂ φ_p of {@code params}, finite where φ_p itself leaves the double range. */
  public double log2PathNorm(double[] params) {
    System.arraycopy(params, 0, w, 0, w.length);
    sweeps();
    return phiMant == 0 ? Double.NEGATIVE_INFINITY : (Math.log(phiMant) / Math.log(2) + phiExp) / p;
  }

  private RnnKappa compute(boolean second) {
    if (second && p != 1 && p != 2) {
      throw new IllegalArgumentException("rnn geometry: κ^(2) is defined here for p = 1 and p = 2, got p = " + p
          + " (docs/rnn.md)");
    }
    sweeps();
    firstTerm();
    out.p = p;
    out.hasSecond = second;
    java.util.Arrays.fill(out.m2, 0);
    java.util.Arrays.fill(out.e2, 0);
    if (second && p == 2) {
      secondTerm();
    }
    return out;
  }

  private void sweeps() {
    int I = l.in();
    int H = l.hidden();
    int O = l.out();
    int T = steps;
    for (int i = 0; i < w.length; i++) {
      ap[i] = pow(w[i]);
    }
    for (int j = 0; j < H; j++) {
      double s = ap[l.b() + j];
      for (int i = 0; i < I; i++) {
        s += ap[l.wIn() + j * I + i];
      }
      a[j] = s;
    }
    int ea = normalize(a, 0, H, 0);
    System.arraycopy(a, 0, g, 0, H);
    ge[0] = ea;
    int rec0 = l.wRec();
    for (int j = 0; j < H; j++) {
      for (int k = 0; k < H; k++) {
        mt[k * H + j] = ap[rec0 + j * H + k];
      }
    }
    System.arraycopy(ap, rec0, mrec, 0, H * H);
    for (int t = 1; t < T; t++) {
      int cur = t * H;
      int prev = cur - H;
      int e = Math.max(ge[t - 1], ea);
      double sp = Math.scalb(1.0, RnnKappa.clampExp((long) ge[t - 1] - e));
      double sa = Math.scalb(1.0, RnnKappa.clampExp((long) ea - e));
      for (int j = 0; j < H; j++) {
        g[cur + j] = a[j] * sa;
      }
      axpyRows(g, cur, g, prev, sp, mt, H);
      ge[t] = normalize(g, cur, H, e);
    }
    int last = (T - 1) * H;
    java.util.Arrays.fill(o, last, last + H, 0);
    for (int oo = 0; oo < O; oo++) {
      for (int j = 0; j < H; j++) {
        o[last + j] += ap[l.wOut() + oo * H + j];
      }
    }
    oe[T - 1] = normalize(o, last, H, 0);
    for (int t = T - 2; t >= 0; t--) {
      int cur = t * H;
      int nxt = cur + H;
      java.util.Arrays.fill(o, cur, cur + H, 0);
      axpyRows(o, cur, o, nxt, 1.0, mrec, H);
      oe[t] = normalize(o, cur, H, oe[t + 1]);
    }
    // φ_p^p = Σ_o Σ_j A_out[o,j] g_T[j] (exponent ge[T−1]) + Σ_o A_bout[o] (exponent 0)
    double s1 = 0;
    double s0 = 0;
    for (int oo = 0; oo < O; oo++) {
      for (int j = 0; j < H; j++) {
        s1 += ap[l.wOut() + oo * H + j] * g[last + j];
      }
      s0 += ap[l.bOut() + oo];
    }
    int e = Math.max(ge[T - 1], 0);
    phiMant = Math.scalb(s1, RnnKappa.clampExp((long) ge[T - 1] - e)) + Math.scalb(s0, RnnKappa.clampExp(-e));
    phiExp = e;
  }

  private void firstTerm() {
    int I = l.in();
    int H = l.hidden();
    int O = l.out();
    int T = steps;
    double[] m1 = out.m1;
    int[] e1 = out.e1;
    // Σ_t o_t (scaled sum) for W_in and b
    int emax = ZERO;
    for (int t = 0; t < T; t++) {
      emax = Math.max(emax, oe[t]);
    }
    java.util.Arrays.fill(a, 0); // a is free after the sweeps: Σ_t o_t·2^(oe[t] − emax)
    for (int t = 0; t < T; t++) {
      double sc = Math.scalb(1.0, RnnKappa.clampExp((long) oe[t] - emax));
      if (sc == 0) {
        continue;
      }
      for (int j = 0; j < H; j++) {
        a[j] += o[t * H + j] * sc;
      }
    }
    for (int j = 0; j < H; j++) {
      for (int i = 0; i < I; i++) {
        RnnKappa.put(m1, e1, l.wIn() + j * I + i, a[j], emax);
      }
      RnnKappa.put(m1, e1, l.b() + j, a[j], emax);
    }
    // W_rec[a,b]: Σ_{t=1..T−1} o[t][a] g[t−1][b] (0-based)
    long rmax = ZERO;
    for (int t = 1; t < T; t++) {
      rmax = Math.max(rmax, (long) oe[t] + ge[t - 1]);
    }
    // one GEMM: rec (H, H) = Σ_t (o[t]·2^(oe[t] + ge[t−1] − rmax)) g[t−1]ᵀ = osᵀ (H, T−1) · gs (T−1, H)
    if (T > 1) {
      for (int t = 1; t < T; t++) {
        double sc = Math.scalb(1.0, RnnKappa.clampExp((long) oe[t] + ge[t - 1] - rmax));
        for (int j = 0; j < H; j++) {
          os.put((t - 1) * H + j, o[t * H + j] * sc);
          gs.put((t - 1) * H + j, g[(t - 1) * H + j]);
        }
      }
      Blas.dgemm(true, false, H, H, T - 1, 1, os, H, gs, H, 0, rec, H);
    }
    for (int i = 0; i < H * H; i++) {
      RnnKappa.put(m1, e1, l.wRec() + i, T > 1 ? rec.get(i) : 0, T > 1 ? rmax : 0);
    }
    int last = (T - 1) * H;
    for (int oo = 0; oo < O; oo++) {
      for (int j = 0; j < H; j++) {
        RnnKappa.put(m1, e1, l.wOut() + oo * H + j, g[last + j], ge[T - 1]);
      }
      RnnKappa.put(m1, e1, l.bOut() + oo, 1, 0);
    }
  }

  /** S^(2) of W_rec for p = 2 (the Q recurrence; see the class comment). */
  private void secondTerm() {
    int H = l.hidden();
    int T = steps;
    if (T < 3) {
      return; // two distinct recurrent edges on one path need h_1 → h_2 → h_3 at least
    }
    for (int i = 0; i < H * H; i++) {
      mm.put(i, ap[l.wRec() + i]);
    }
    // Q_2 = diag(g[0]), 0-based τ2 = 2
    for (int i = 0; i < H * H; i++) {
      q.put(i, 0);
    }
    for (int b = 0; b < H; b++) {
      q.put(b * H + b, g[b]);
    }
    long qe = ge[0];
    java.util.Arrays.fill(k2, 0);
    long ke = ZERO;
    for (int t2 = 2; t2 < T; t2++) {
      // K2acc[b, a] += Q[b, a]·o[t2][a]
      long te = qe + oe[t2];
      if (te > ke) {
        double s = Math.scalb(1.0, RnnKappa.clampExp(ke - te));
        for (int i = 0; i < H * H; i++) {
          k2[i] *= s;
        }
        ke = te;
      }
      double sc = Math.scalb(1.0, RnnKappa.clampExp(te - ke));
      if (sc != 0) {
        int oo = t2 * H;
        for (int b = 0; b < H; b++) {
          int row = b * H;
          for (int aa = 0; aa < H; aa++) {
            k2[row + aa] += q.get(row + aa) * o[oo + aa] * sc;
          }
        }
      }
      if (t2 == T - 1) {
        break;
      }
      // Q ← Q·M + diag(g[t2 − 1])
      Blas.dgemm(false, false, H, H, H, 1, q, H, mm, H, 0, qn, H);
      long e = Math.max(qe, ge[t2 - 1]);
      double sq = Math.scalb(1.0, RnnKappa.clampExp(qe - e));
      double sg = Math.scalb(1.0, RnnKappa.clampExp(ge[t2 - 1] - e));
      double max = 0;
      for (int i = 0; i < H * H; i++) {
        double v = qn.get(i) * sq;
        qn.put(i, v);
      }
      int gp = (t2 - 1) * H;
      for (int b = 0; b < H; b++) {
        qn.put(b * H + b, qn.get(b * H + b) + g[gp + b] * sg);
      }
      for (int i = 0; i < H * H; i++) {
        max = Math.max(max, qn.get(i));
      }
      int x = max == 0 ? 0 : Math.getExponent(max);
      if (x != 0) {
        double s = Math.scalb(1.0, -x);
        for (int i = 0; i < H * H; i++) {
          qn.put(i, qn.get(i) * s);
        }
      }
      qe = max == 0 ? ZERO : e + x;
      DoubleBuffer tmp = q;
      q = qn;
      qn = tmp;
    }
    for (int aa = 0; aa < H; aa++) {
      for (int b = 0; b < H; b++) {
        int i = l.wRec() + aa * H + b;
        RnnKappa.put(out.m2, out.e2, i, 2 * ap[i] * k2[b * H + aa], ke);
      }
    }
  }

  /**
   * y[yOff..yOff+H) += Σ_k (s·x[xOff + k])·m[k, :], m (H, H) row-major: four rows per pass, so that y is loaded and
   * stored once per four rows (the loop the JIT vectorizes).
   */
  private static void axpyRows(double[] y, int yOff, double[] x, int xOff, double s, double[] m, int H) {
    int k = 0;
    for (; k + 4 <= H; k += 4) {
      double x0 = x[xOff + k] * s;
      double x1 = x[xOff + k + 1] * s;
      double x2 = x[xOff + k + 2] * s;
      double x3 = x[xOff + k + 3] * s;
      if (x0 == 0 && x1 == 0 && x2 == 0 && x3 == 0) {
        continue;
      }
      int r0 = k * H;
      int r1 = r0 + H;
      int r2 = r1 + H;
      int r3 = r2 + H;
      for (int j = 0; j < H; j++) {
        y[yOff + j] += x0 * m[r0 + j] + x1 * m[r1 + j] + x2 * m[r2 + j] + x3 * m[r3 + j];
      }
    }
    for (; k < H; k++) {
      double xk = x[xOff + k] * s;
      if (xk == 0) {
        continue;
      }
      int r = k * H;
      for (int j = 0; j < H; j++) {
        y[yOff + j] += xk * m[r + j];
      }
    }
  }

  /**
   * Scales v[off..off+n) so that its largest entry lies in [1, 2) (values are non-negative); returns the exponent of
   * the scaled vector given that it had exponent e: {@link #ZERO} for a zero vector.
   */
  private static int normalize(double[] v, int off, int n, int e) {
    double max = 0;
    for (int i = off; i < off + n; i++) {
      max = Math.max(max, v[i]);
    }
    if (max == 0) {
      return ZERO;
    }
    int x = Math.getExponent(max);
    if (x != 0) {
      double s = Math.scalb(1.0, -x);
      for (int i = off; i < off + n; i++) {
        v[i] *= s;
      }
    }
    return (int) Math.max(ZERO, Math.min(Integer.MAX_VALUE / 8, (long) e + x));
  }

  private double pow(double x) {
    double ax = Math.abs(x);
    return p == 2 ? ax * ax : p == 1 ? ax : Math.pow(ax, p);
  }
}
