package io.github.pathsgd.core.geometry;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.tensor.SpectralNorm;
import io.github.pathsgd.core.tensor.Tensor;
import java.nio.FloatBuffer;

/**
 * Group norms of a layered network, for measuring and reporting (Neyshabur, Tomioka and Srebro, "Norm-Based Capacity
 * Control in Neural Networks", COLT 2015; Path-SGD, NIPS 2015, §3; chapter arXiv:1705.03071; docs/paper-spec.md §2.4):
 *
 * <pre>
 *   μ_{p,q}(w) = ( Σ_v ( Σ_{u→v} |w_{u→v}|^p )^{q/p} )^{1/q},     q = ∞: max_v ( Σ_{u→v} |w_{u→v}|^p )^{1/p}
 * </pre>
 *
 * where v runs over every non-input unit (hidden and output). Named cases: ℓ1 = μ_{1,1}, ℓ2 (weight decay, "overall"
 * regularization) = μ_{2,2}, per-unit ℓ2 max-norm = μ_{2,∞}. None is rescaling invariant.
 *
 * <p><b>Biases.</b> By default ({@code includeBiases = true}) the bias b_v counts as one more incoming edge of v (from
 * the constant-1 unit), consistent with {@link PathNorms}; with {@code false} only the weights count. The per-layer
 * Frobenius and spectral norms are of the weight matrices W_l alone. All sums are in double.
 */
public final class GroupNorms {
  private GroupNorms() {}

  /** μ_{p,q}(w), p ≥ 1, q ≥ 1 or ∞. */
  public static double mu(DenseChain lay, Tensor params, double p, double q, boolean includeBiases) {
    PathNorms.checkP(p);
    if (Double.isInfinite(p)) {
      throw new IllegalArgumentException("group norm inner exponent p must be finite, got " + p);
    }
    if (!(q >= 1)) {
      throw new IllegalArgumentException("group norm outer exponent q must be >= 1 (or infinity), got " + q);
    }
    FloatBuffer w = params.buffer();
    boolean qInf = Double.isInfinite(q);
    double acc = 0;
    for (int l = 0; l < lay.layers(); l++) {
      int in = lay.in(l);
      for (int v = 0, out = lay.out(l); v < out; v++) {
        double s = includeBiases ? PathNorms.powAbs(w.get(lay.biasOffset(l) + v), p) : 0;
        int row = lay.weightOffset(l) + v * in;
        for (int i = 0; i < in; i++) {
          s += PathNorms.powAbs(w.get(row + i), p);
        }
        if (qInf) {
          acc = Math.max(acc, Math.pow(s, 1 / p));
        } else {
          acc += q == p ? s : Math.pow(s, q / p);
        }
      }
    }
    return qInf ? acc : Math.pow(acc, 1 / q);
  }

  /** μ_{p,q}(w) with biases as incoming edges. */
  public static double mu(LayerNet net, double p, double q) {
    return mu(net.chain(), net.params(), p, q, true);
  }

  /** ℓ2 norm μ_{2,2} (the weight-decay norm; its square is the weight-decay penalty without the ½). */
  public static double l2(LayerNet net, boolean includeBiases) {
    return mu(net.chain(), net.params(), 2, 2, includeBiases);
  }

  /** Per-unit max-norm μ_{2,∞}: the largest ℓ2 norm of a unit's incoming weight vector. */
  public static double maxNorm(LayerNet net, boolean includeBiases) {
    return mu(net.chain(), net.params(), 2, Double.POSITIVE_INFINITY, includeBiases);
  }

  /** ℓ1 norm μ_{1,1}. */
  public static double l1(LayerNet net, boolean includeBiases) {
    return mu(net.chain(), net.params(), 1, 1, includeBiases);
  }

  /** Frobenius norm of W_l (biases excluded). */
  public static double frobenius(LayerNet net, int l) {
    DenseChain lay = net.chain();
    FloatBuffer w = net.params().buffer();
    double s = 0;
    for (int i = 0, off = lay.weightOffset(l), n = lay.weightSize(l); i < n; i++) {
      double x = w.get(off + i);
      s += x * x;
    }
    return Math.sqrt(s);
  }

  /**
   * Spectral norm (largest singular value) of W_l (biases excluded), by {@link SpectralNorm#of} (Lanczos
   * bidiagonalization in double, checked against LAPACK).
   */
  public static double spectral(LayerNet net, int l) {
    DenseChain lay = net.chain();
    return SpectralNorm.of(net.params().buffer(), lay.weightOffset(l), lay.out(l), lay.in(l));
  }

  /**
   * Spectral norm of a row-major (rows × cols) matrix by power iteration on AᵀA, starting from a fixed non-degenerate
   * vector, until the estimate changes by less than {@code tol} relative or after {@code maxIter} iterations.
   */
  public static double spectral(double[] a, int rows, int cols, int maxIter, double tol) {
    double[] x = new double[cols];
    double[] y = new double[rows];
    for (int j = 0; j < cols; j++) {
      x[j] = 1.0 + 0.1 * Math.sin(j + 1.0); // deterministic, unlikely orthogonal to the top singular vector
    }
    normalize(x);
    double sigma = 0;
    for (int it = 0; it < maxIter; it++) {
      for (int i = 0; i < rows; i++) {
        double s = 0;
        for (int j = 0; j < cols; j++) {
          s += a[i * cols + j] * x[j];
        }
        y[i] = s;
      }
      java.util.Arrays.fill(x, 0);
      for (int i = 0; i < rows; i++) {
        for (int j = 0; j < cols; j++) {
          x[j] += a[i * cols + j] * y[i];
        }
      }
      double n = normalize(x); // = ‖AᵀA x‖ → σ²
      double next = Math.sqrt(n);
      if (n == 0) {
        return 0;
      }
      if (Math.abs(next - sigma) <= tol * next) {
        return next;
      }
      sigma = next;
    }
    return sigma;
  }

  private static double normalize(double[] x) {
    double s = 0;
    for (double v : x) {
      s += v * v;
    }
    double n = Math.sqrt(s);
    if (n > 0) {
      for (int i = 0; i < x.length; i++) {
        x[i] /= n;
      }
    }
    return n;
  }
}
