package io.github.pathsgd.core.tensor;

import java.nio.FloatBuffer;

/**
 * The spectral norm ‖W‖₂ = σ_max(W) of a row-major float matrix, by Golub–Kahan–Lanczos bidiagonalization with full
 * reorthogonalization, in double (Golub and Van Loan, "Matrix Computations", 4th ed., §10.4). After k steps the
 * bidiagonal B_k (α_j on the diagonal, β_j above it) satisfies A·V_k = U_k·B_k, and σ_max(B_k) increases to σ_max(A);
 * it is taken from the largest eigenvalue of the tridiagonal B_kᵀB_k by Sturm-sequence bisection (to double
 * rounding). The iteration stops when σ_max(B_k) changes by less than 1e-13 relative between two steps, or when an
 * invariant subspace is found (β_k = 0), or after min(rows, cols, {@link #MAX_STEPS}) steps. The start vector is
 * fixed (Aᵀz for a fixed z, so it lies in A's row space), so the result is reproducible bit for bit.
 *
 * <p>Cost: two passes over W per step, usually 20–60 steps; the oracle in the tests is LAPACK's dgesvd. {@link
 * #of(Operator)} runs the same iteration on any linear map given by its action and its transpose's (a convolution's
 * operator norm, {@code core.nn.ConvOperator}).
 */
public final class SpectralNorm {
  /** The most Lanczos steps taken. */
  public static final int MAX_STEPS = 300;

  private SpectralNorm() {}

  /**
   * Doubles the Lanczos vectors may hold at most ({@code (k + 1)·cols + k·rows} for k steps, 32 MiB): a large operator
   * (a convolution over a large image) takes fewer than {@link #MAX_STEPS} steps rather than more memory.
   */
  public static final long MAX_STORED = 1L << 22;

  /**
   * A linear map A from R^cols to R^rows, given by its action and its transpose's (for an operator that is never
   * formed as a matrix, such as a convolution).
   */
  public interface Operator {
    int rows();

    int cols();

    /** y ← A x (x of length cols, y of length rows, overwritten). */
    void apply(double[] x, double[] y);

    /** x ← Aᵀ y (y of length rows, x of length cols, overwritten). */
    void applyTransposed(double[] y, double[] x);
  }

  /** σ_max of the {@code rows × cols} row-major matrix at float offset {@code off} of {@code w}. */
  public static double of(FloatBuffer w, int off, int rows, int cols) {
    if (rows <= 0 || cols <= 0) {
      return 0;
    }
    return of(new Operator() {
      @Override
      public int rows() {
        return rows;
      }

      @Override
      public int cols() {
        return cols;
      }

      @Override
      public void apply(double[] x, double[] y) {
        for (int r = 0; r < rows; r++) {
          double s = 0;
          int base = off + r * cols;
          for (int c = 0; c < cols; c++) {
            s += w.get(base + c) * x[c];
          }
          y[r] = s;
        }
      }

      @Override
      public void applyTransposed(double[] y, double[] x) {
        java.util.Arrays.fill(x, 0.0);
        for (int r = 0; r < rows; r++) {
          double ur = y[r];
          int base = off + r * cols;
          for (int c = 0; c < cols; c++) {
            x[c] += w.get(base + c) * ur;
          }
        }
      }
    });
  }

  /**
   * σ_max of a linear operator, by the iteration of the class comment on A and Aᵀ: at most min(rows, cols, {@link
   * #MAX_STEPS}) steps, and fewer when {@link #MAX_STORED} doubles would not hold that many Lanczos vectors (then the
   * result is σ_max(B_k) of the last step, which increases towards σ_max(A)).
   */
  public static double of(Operator a) {
    int rows = a.rows();
    int cols = a.cols();
    if (rows <= 0 || cols <= 0) {
      return 0;
    }
    long byMemory = Math.max(1, (MAX_STORED - cols) / ((long) rows + cols));
    int kMax = (int) Math.min(Math.min(Math.min(rows, cols), MAX_STEPS), byMemory);
    double[][] vs = new double[kMax + 1][];
    double[][] us = new double[kMax][];
    double[] alpha = new double[kMax];
    double[] beta = new double[kMax];
    // start in the row space of A, v = Aᵀz for a fixed z, so that min(rows, cols) steps span all of it: exact (up to
    // rounding) when the iteration runs to the end
    double[] z = new double[rows];
    for (int r = 0; r < rows; r++) {
      z[r] = 1.0 + 0.5 * Math.sin(1.0 + 0.7 * r); // fixed; generically not orthogonal to any singular vector
    }
    double[] v = new double[cols];
    a.applyTransposed(z, v);
    if (normalize(v) == 0) {
      for (int i = 0; i < cols; i++) {
        v[i] = 1.0 + 0.5 * Math.sin(1.0 + 0.7 * i);
      }
      normalize(v);
    }
    vs[0] = v;
    double sigma = 0;
    for (int k = 0; k < kMax; k++) {
      // u = A v_k − β_{k−1} u_{k−1}, reorthogonalized against u_0..u_{k−1}
      double[] u = new double[rows];
      a.apply(vs[k], u);
      for (int j = 0; j < k; j++) {
        subtractProjection(u, us[j]);
      }
      alpha[k] = normalize(u);
      us[k] = u;
      if (alpha[k] == 0) {
        sigma = Math.max(sigma, largestSingular(alpha, beta, k));
        break;
      }
      // v = Aᵀ u_k − α_k v_k, reorthogonalized against v_0..v_k
      double[] nv = new double[cols];
      a.applyTransposed(u, nv);
      for (int j = 0; j <= k; j++) {
        subtractProjection(nv, vs[j]);
      }
      beta[k] = normalize(nv);
      vs[k + 1] = nv;
      double s = largestSingular(alpha, beta, k + 1);
      boolean converged = k > 0 && Math.abs(s - sigma) <= 1e-13 * s;
      sigma = s;
      if (converged || beta[k] == 0) {
        break;
      }
    }
    return sigma;
  }

  /** The product over layers of each weight matrix's spectral norm (biases left out). */
  public static double product(FloatBuffer w, int[] offsets, int[] rows, int[] cols) {
    double p = 1;
    for (int l = 0; l < offsets.length; l++) {
      p *= of(w, offsets[l], rows[l], cols[l]);
    }
    return p;
  }

  private static void subtractProjection(double[] x, double[] q) {
    double d = 0;
    for (int i = 0; i < x.length; i++) {
      d += x[i] * q[i];
    }
    for (int i = 0; i < x.length; i++) {
      x[i] -= d * q[i];
    }
  }

  private static double normalize(double[] x) {
    double n = 0;
    for (double v : x) {
      n += v * v;
    }
    n = Math.sqrt(n);
    if (n > 0) {
      for (int i = 0; i < x.length; i++) {
        x[i] /= n;
      }
    }
    return n;
  }

  /**
   * σ_max of the k × k upper bidiagonal matrix with diagonal α[0..k) and superdiagonal β[0..k−1): the square root of
   * the largest eigenvalue of T = BᵀB (T[i][i] = α_i² + β_{i−1}², T[i][i+1] = α_i β_i), by bisection on the Sturm
   * count.
   */
  static double largestSingular(double[] alpha, double[] beta, int k) {
    if (k == 0) {
      return 0;
    }
    // T = BᵀB: T[i][i] = α_i² + β_{i−1}² (β_{−1} = 0), T[i][i+1] = α_i β_i
    double[] d = new double[k];
    double[] e = new double[k];
    double hi = 0;
    for (int i = 0; i < k; i++) {
      double b = i > 0 ? beta[i - 1] : 0;
      d[i] = alpha[i] * alpha[i] + b * b;
      e[i] = i + 1 < k ? alpha[i] * beta[i] : 0;
    }
    for (int i = 0; i < k; i++) { // Gershgorin bound
      hi = Math.max(hi, d[i] + Math.abs(e[i]) + (i > 0 ? Math.abs(e[i - 1]) : 0));
    }
    double lo = 0;
    for (int it = 0; it < 200 && hi - lo > 1e-16 * hi; it++) {
      double mid = 0.5 * (lo + hi);
      if (countBelow(d, e, k, mid) < k) {
        lo = mid; // some eigenvalue is ≥ mid
      } else {
        hi = mid;
      }
    }
    return Math.sqrt(hi);
  }

  /** The number of eigenvalues of the symmetric tridiagonal (d, e) below x (Sturm sequence). */
  private static int countBelow(double[] d, double[] e, int k, double x) {
    int count = 0;
    double q = 1;
    for (int i = 0; i < k; i++) {
      double off = i > 0 ? e[i - 1] : 0;
      q = d[i] - x - (i > 0 ? off * off / q : 0);
      if (q == 0) {
        q = -1e-300;
      }
      if (q < 0) {
        count++;
      }
    }
    return count;
  }
}
