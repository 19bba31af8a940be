package io.github.pathsgd.core.geometry;

import io.github.pathsgd.core.nn.Dense;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Graph;
import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.tensor.Tensor;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * The ℓp path regularizer φ_p and the path quantities γ_in, γ_out of a layered ReLU network, by dynamic programming in
 * double precision.
 *
 * <p>Definition (Neyshabur, Salakhutdinov and Srebro, "Path-SGD: Path-Normalized Optimization in Deep Neural
 * Networks", NIPS 2015, §3; chapter arXiv:1705.03071): for every input→output path P = (e_1, ..., e_d) the path
 * vector has the coordinate π_P(w) = Π_{e∈P} w_e, and
 *
 * <pre>
 *   φ_p(w) = ‖π(w)‖_p = ( Σ_P Π_{e∈P} |w_e|^p )^{1/p}            (1 ≤ p &lt; ∞)
 *   φ_∞(w) = max_P Π_{e∈P} |w_e|
 * </pre>
 *
 * <p>Dynamic programming (docs/paper-spec.md §2.3; each layer's {@link io.github.pathsgd.core.nn.Layer#gammaForward} and {@link
 * io.github.pathsgd.core.nn.Layer#gammaBackward}): γ_in(input) = 1 and γ_in(v) = Σ_{u→v} γ_in(u)·|w_{u→v}|^p (+ |b_v|^p),
 * i.e. an all-ones vector forwarded through |W|^p and |b|^p with the identity as activation; φ_p^p = Σ_outputs γ_in.
 * Backwards, γ_out(output) = 1 and γ_out(u) = Σ_{u→v} |w_{u→v}|^p·γ_out(v). For p = ∞ the sums become maxima
 * (max-plus DP over |w|) and no power is taken.
 *
 * <p><b>Biases</b> (docs/paper-spec.md §2.6): by default a bias b_v is the weight of an edge from a constant-1 source node with
 * γ_in = 1, so γ_in(v) includes |b_v|^p and φ_p counts the paths that start at bias nodes, output biases included
 * (paths of length one). With {@code includeBiases = false} the biases are ignored (φ_p is then the path norm of the
 * network without thresholds). γ_out never depends on biases.
 *
 * <p>Layer indexing: index i runs over the widths n_0..n_L (0 = inputs, L = outputs), so {@code gammaIn(...)[i]} has
 * n_i entries.
 */
public final class PathNorms {
  private PathNorms() {}

  /** φ_p(w) with biases as edges from a constant-1 unit; p ≥ 1 or {@code Double.POSITIVE_INFINITY}. */
  public static double phi(LayerNet net, double p) {
    return phi(net.chain(), net.params(), p, true);
  }

  /** φ_p(w); see the class comment for {@code includeBiases}. */
  public static double phi(LayerNet net, double p, boolean includeBiases) {
    return phi(net.chain(), net.params(), p, includeBiases);
  }

  /** φ_p(w) of the parameters {@code params} laid out by {@code layout}: {@link #phi(List, Tensor, double, boolean)}. */
  public static double phi(DenseChain layout, Tensor params, double p, boolean includeBiases) {
    return phi(List.of(Dense.of(layout)), params, p, includeBiases);
  }

  /**
   * φ_p(θ) of any network of layers, the one implementation of φ: the γ_in sweep over |θ|^p from an all-ones input
   * through each layer's {@link Layer#gammaForward} (tied edges unrolled; p = ∞: max-plus over |θ|, φ_∞ the largest
   * output γ_in), with or without the biases as edges from a constant-1 unit; φ_p = (Σ_outputs γ_in)^{1/p}, in double.
   */
  public static double phi(List<? extends Layer> layers, Tensor params, double p, boolean includeBiases) {
    checkP(p);
    double[] g = outputGamma(layers, params, p, includeBiases);
    double s = 0;
    for (double v : g) {
      s = Double.isInfinite(p) ? Math.max(s, v) : s + v;
    }
    return Double.isInfinite(p) || p == 1 ? s : Math.pow(s, 1.0 / p);
  }

  /** φ_p(θ)^p of a network of layers: Σ over outputs of γ_in, biases included (p finite). */
  public static double phiPow(List<? extends Layer> layers, Tensor params, double p) {
    checkP(p);
    double s = 0;
    for (double v : outputGamma(layers, params, p, true)) {
      s += v;
    }
    return s;
  }

  /**
   * γ_in of the outputs: the forward sweep over |θ|^p from an all-ones input (max-plus for p = ∞), in double, by the one
   * traversal ({@link PathSweep}) over the layers as ops.
   */
  private static double[] outputGamma(List<? extends Layer> layers, Tensor params, double p, boolean includeBiases) {
    PathSweep sweep = new PathSweep(layers.get(0).in(), Graph.expand(layers));
    sweep.forward(params.buffer(), p, includeBiases);
    return sweep.outputGammaIn();
  }

  /**
   * φ_p(θ) of a graph of ops ({@link Graph}; a residual block's skip is an edge of weight 1): {@code (Σ_outputs
   * γ_in)^{1/p}} by {@link PathSweep}, with or without the biases as edges from a constant-1 unit.
   */
  public static double phi(Graph graph, Tensor params, double p, boolean includeBiases) {
    checkP(p);
    PathSweep sweep = new PathSweep(graph.inputs(), graph.ops());
    sweep.forward(params.buffer(), p, includeBiases);
    double s = 0;
    for (double v : sweep.outputGammaIn()) {
      s = Double.isInfinite(p) ? Math.max(s, v) : s + v;
    }
    return Double.isInfinite(p) || p == 1 ? s : Math.pow(s, 1.0 / p);
  }

  /** φ_∞(w): the largest path product max_P Π|w_e| (biases included as edges from a constant-1 unit). */
  public static double phiInf(LayerNet net) {
    return phi(net, Double.POSITIVE_INFINITY, true);
  }

  /**
   * γ_in for every layer: {@code result[0]} is all ones (inputs), {@code result[i][v] = Σ_u γ_in(u)|W_{i-1}[v,u]|^p
   * (+ |b_{i-1}[v]|^p)} for i = 1..L (max instead of Σ for p = ∞).
   */
  public static double[][] gammaIn(DenseChain layout, Tensor params, double p, boolean includeBiases) {
    checkP(p);
    FloatBuffer w = params.buffer();
    Dense[] layers = Dense.of(layout);
    int L = layers.length;
    double[][] g = new double[L + 1][];
    g[0] = ones(layout.inputs());
    for (int l = 0; l < L; l++) {
      g[l + 1] = new double[layers[l].out()];
      layers[l].gammaForward(w, g[l], g[l + 1], p, includeBiases);
    }
    return g;
  }

  /** γ_in of one network, with biases included; see {@link #gammaIn(DenseChain, Tensor, double, boolean)}. */
  public static double[][] gammaIn(LayerNet net, double p) {
    return gammaIn(net.chain(), net.params(), p, true);
  }

  /**
   * γ_out for every layer: {@code result[L]} is all ones (outputs), {@code result[i][u] = Σ_v |W_i[v,u]|^p
   * γ_out(v)} for i = L-1..0 (max instead of Σ for p = ∞). Biases do not enter.
   */
  public static double[][] gammaOut(DenseChain layout, Tensor params, double p) {
    checkP(p);
    FloatBuffer w = params.buffer();
    Dense[] layers = Dense.of(layout);
    int L = layers.length;
    double[][] g = new double[L + 1][];
    g[L] = ones(layout.outputs());
    for (int l = L - 1; l >= 0; l--) {
      g[l] = new double[layers[l].in()];
      layers[l].gammaBackward(w, g[l + 1], g[l], p);
    }
    return g;
  }

  /** γ_out of one network; see {@link #gammaOut(DenseChain, Tensor, double)}. */
  public static double[][] gammaOut(LayerNet net, double p) {
    return gammaOut(net.chain(), net.params(), p);
  }

  /** |x|^p with the common integer exponents done by multiplication; p = ∞ gives |x| ({@link Dense#powAbs}). */
  static double powAbs(double x, double p) {
    return Dense.powAbs(x, p);
  }

  static void checkP(double p) {
    if (!(p >= 1)) {
      throw new IllegalArgumentException("path norm exponent p must be >= 1 (or infinity), got " + p);
    }
  }

  private static double[] ones(int n) {
    double[] a = new double[n];
    java.util.Arrays.fill(a, 1.0);
    return a;
  }
}
