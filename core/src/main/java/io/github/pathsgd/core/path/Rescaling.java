package io.github.pathsgd.core.path;

import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.Mlp;
import io.github.pathsgd.core.nn.ParamLayout;
import io.github.pathsgd.core.optim.OptState;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;

/**
 * Node-wise rescaling ρ_{c,v} and the paper's unbalanced initialization (Neyshabur, Salakhutdinov and Srebro,
 * "Path-SGD", NIPS 2015, §2 and §5; chapter arXiv:1705.03071, Figure 2; paper-spec §2.2).
 *
 * <p>For a hidden unit v and c &gt; 0, ρ_{c,v} multiplies every weight into v <em>and its bias</em> by c and every
 * weight out of v by 1/c. Since ReLU(c·z) = c·ReLU(z), the network function is unchanged: f_{ρ(w)} ≡ f_w.
 *
 * <p>Units are addressed by (layer, unit), where {@code layer} is the width index of a hidden layer, 1 ≤ layer ≤
 * L−1 (0 are the inputs, L the outputs, which cannot be rescaled). Its incoming weights are row {@code unit} of
 * W_{layer−1} with bias b_{layer−1}[unit]; its outgoing weights are column {@code unit} of W_{layer}.
 *
 * <p>Optimizer state transforms along ({@link #scaleUnit(OptState, int, int, double)}), so that a rescaled run
 * continues exactly as the image of the original: gradient-like buffers ({@code momentum}) as gradients (incoming
 * ×1/c, outgoing ×c), squared-gradient buffers ({@code sum_sq}) as squared gradients (×1/c², ×c²), and Path-SGD's
 * κ factors ({@link PathSgd#KAPPA_IN}: γ_in(v)^{2/p} ×c²; {@link PathSgd#KAPPA_OUT}: γ_out(v)^{2/p} ×1/c²); buffers
 * downstream of a Path-SGD normalization hold g⊘κ and transform like weights. Scalars (counts, the Path-SGD κ floor
 * and "ratio") are left alone.
 */
public final class Rescaling {
  private Rescaling() {}

  /** ρ_{c,v} in place on a network; see the class comment for (layer, unit). */
  public static void scaleUnit(Mlp net, int layer, int unit, double c) {
    scaleUnit(net.layout(), net.params(), layer, unit, c);
  }

  /** ρ_{c,v} in place on parameters of the given layout. */
  public static void scaleUnit(ParamLayout lay, Tensor params, int layer, int unit, double c) {
    check(lay, layer, unit, c);
    scaleInOut(lay, params.buffer(), layer, unit, c, 1.0 / c);
  }

  /**
   * Applies ρ_{c,v} to an optimizer state, recursing into children. Buffers of raw gradients transform like gradients:
   * {@code momentum} incoming ×1/c and outgoing ×c, {@code sum_sq} ×1/c² and ×c². Path-SGD's factors: {@code
   * kappa_in} (unit v's entry) ×c², {@code kappa_out} ×1/c². Buffers that sit <em>after</em> a Path-SGD
   * normalization in a chain (a later sibling of a state holding {@code kappa_in}) accumulate directions g⊘κ, which
   * transform like the weights themselves: {@code momentum} incoming ×c and outgoing ×1/c ({@code sum_sq} ×c², ×1/c²).
   *
   * @throws IllegalArgumentException for a buffer whose transformation is unknown
   */
  public static void scaleUnit(OptState state, int layer, int unit, double c) {
    check(state.layout(), layer, unit, c);
    scaleState(state, layer, unit, c, false);
  }

  private static void scaleState(OptState state, int layer, int unit, double c, boolean afterPath) {
    ParamLayout lay = state.layout();
    // g ⊘ κ for an incoming edge of v scales by c (g by 1/c, κ by 1/c²): the raw-gradient factor times c²
    double g = afterPath ? c : 1.0 / c;
    for (var e : state.buffers().entrySet()) {
      FloatBuffer b = e.getValue().buffer();
      switch (e.getKey()) {
        case "momentum" -> scaleInOut(lay, b, layer, unit, g, 1.0 / g);
        case "sum_sq" -> scaleInOut(lay, b, layer, unit, g * g, 1.0 / (g * g));
        // κ is stored as mantissa and exponent (PathSgd#KAPPA_IN_EXP): scaled through PathSgd, never in float
        case PathSgd.KAPPA_IN -> PathSgd.scaleKappa(state, PathSgd.KAPPA_IN,
            PathSgd.kappaInOffset(lay, layer) + unit, c * c); // the unit as an input of W_layer
        case PathSgd.KAPPA_OUT -> PathSgd.scaleKappa(state, PathSgd.KAPPA_OUT,
            PathSgd.kappaOutOffset(lay, layer - 1) + unit, 1.0 / (c * c)); // as an output of W_{layer-1}
        case PathSgd.KAPPA_IN_EXP, PathSgd.KAPPA_OUT_EXP -> { } // scaled with their mantissas
        default -> throw new IllegalArgumentException("cannot rescale optimizer buffer '" + e.getKey()
            + "': its transformation under node rescaling is unknown");
      }
    }
    boolean after = afterPath;
    for (OptState child : state.children()) {
      scaleState(child, layer, unit, c, after);
      if (containsPath(child)) {
        after = true;
      }
    }
  }

  private static boolean containsPath(OptState s) {
    if (s.buffers().containsKey(PathSgd.KAPPA_IN)) {
      return true;
    }
    for (OptState c : s.children()) {
      if (containsPath(c)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Applies one factor per hidden unit: {@code factors[layer][unit]} for layer = 1..L−1 ({@code factors[0]} and
   * {@code factors[L]} are ignored and may be null). Equivalent to ρ for every unit in turn.
   */
  public static void scaleAll(Mlp net, double[][] factors) {
    ParamLayout lay = net.layout();
    for (int l = 1; l < lay.layers(); l++) {
      for (int v = 0; v < lay.width(l); v++) {
        scaleUnit(net, l, v, factors[l][v]);
      }
    }
  }

  /** {@link #scaleAll(Mlp, double[][])} for an optimizer state. */
  public static void scaleAll(OptState state, double[][] factors) {
    ParamLayout lay = state.layout();
    for (int l = 1; l < lay.layers(); l++) {
      for (int v = 0; v < lay.width(l); v++) {
        scaleUnit(state, l, v, factors[l][v]);
      }
    }
  }

  /** How each unbalancing factor is formed from c ~ LogNormal(μ, σ). */
  public enum FactorForm {
    /** 10·c (the paper's wording, default). */
    TEN_TIMES_C,
    /** 10^c. */
    TEN_TO_THE_C
  }

  /**
   * Options of the unbalanced initialization.
   *
   * @param count how many hidden units are picked (uniformly, with replacement, over all hidden layers); default 2000
   * @param form the factor 10·c (default) or 10^c
   * @param mu μ of the log-normal, default 0
   * @param sigma σ of the log-normal, default 1
   */
  public record Unbalance(int count, FactorForm form, double mu, double sigma) {
    /** The paper-spec's [Rec] defaults: 2000 picks, factor 10·c, c ~ LogNormal(0, 1). */
    public static final Unbalance DEFAULT = new Unbalance(2000, FactorForm.TEN_TIMES_C, 0, 1);

    public Unbalance {
      if (count < 0 || form == null || !(sigma >= 0) || !Double.isFinite(mu)) {
        throw new IllegalArgumentException("bad unbalancing options: count=" + count + ", form=" + form + ", mu="
            + mu + ", sigma=" + sigma);
      }
    }
  }

  /**
   * The paper's unbalanced initialization ([PS] §5: "we first initialize the weights as in the balanced case and then
   * apply rescalings to random units"), with the paper-spec's [Rec] choices made explicit: {@code count} hidden units
   * are drawn uniformly at random with replacement from all hidden units of all hidden layers (a unit may be drawn
   * several times; its factors multiply), and each draw applies ρ_{s,v} with s = 10·c or 10^c, c =
   * exp(μ + σ·N(0,1)). Incoming weights and the bias are multiplied together, so the result is functionally identical
   * to {@code net} on entry. All randomness comes from {@code rng}: per pick one {@code nextInt} then one {@code
   * nextGaussian}.
   */
  public static void unbalance(Mlp net, Unbalance opts, Rng rng) {
    ParamLayout lay = net.layout();
    int hidden = lay.hiddenUnits();
    if (hidden == 0) {
      return;
    }
    for (int k = 0; k < opts.count(); k++) {
      int idx = rng.nextInt(hidden);
      double c = Math.exp(opts.mu() + opts.sigma() * rng.nextGaussian());
      double s = opts.form() == FactorForm.TEN_TIMES_C ? 10 * c : Math.pow(10, c);
      int layer = 1;
      while (idx >= lay.width(layer)) {
        idx -= lay.width(layer);
        layer++;
      }
      scaleUnit(net, layer, idx, s);
    }
  }

  /** {@link Init#balanced} from {@code initRng}, then {@link #unbalance} from {@code unbalanceRng}. */
  public static Mlp unbalanced(ParamLayout layout, Rng initRng, Unbalance opts, Rng unbalanceRng) {
    Mlp net = Init.balanced(layout, initRng);
    unbalance(net, opts, unbalanceRng);
    return net;
  }

  /**
   * Incoming weights and bias of the unit ×in, outgoing ×out. Each product is formed in double and rounded once to
   * float, so a factor need not be representable in float (c = 1e40 on weights of 1e-3 is fine) and ρ_c followed by
   * ρ_{1/c} returns every weight to within one float rounding.
   */
  private static void scaleInOut(ParamLayout lay, FloatBuffer b, int layer, int unit, double in, double out) {
    int l = layer - 1; // W_l has the unit as an output
    int n = lay.in(l);
    int row = lay.weightOffset(l) + unit * n;
    for (int i = 0; i < n; i++) {
      b.put(row + i, (float) (b.get(row + i) * in));
    }
    int bi = lay.biasOffset(l) + unit;
    b.put(bi, (float) (b.get(bi) * in));
    int m = lay.in(layer); // W_layer has the unit as an input (column)
    int wOff = lay.weightOffset(layer);
    for (int o = 0, O = lay.out(layer); o < O; o++) {
      int j = wOff + o * m + unit;
      b.put(j, (float) (b.get(j) * out));
    }
  }

  private static void check(ParamLayout lay, int layer, int unit, double c) {
    if (layer < 1 || layer >= lay.layers()) {
      throw new IllegalArgumentException("layer " + layer + " is not a hidden layer of " + lay + " (1.."
          + (lay.layers() - 1) + ")");
    }
    if (unit < 0 || unit >= lay.width(layer)) {
      throw new IllegalArgumentException("unit " + unit + " outside hidden layer " + layer + " of width "
          + lay.width(layer));
    }
    if (!(c > 0) || Double.isInfinite(c)) {
      throw new IllegalArgumentException("rescaling factor must be positive and finite, got " + c);
    }
  }
}
