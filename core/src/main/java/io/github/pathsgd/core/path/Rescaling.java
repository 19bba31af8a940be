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

  /**
   * How each unbalancing factor s is formed from c = exp(μ + σ·z), z ~ N(0, 1), that is c ~ LogNormal(μ, σ).
   */
  public enum FactorForm {
    /** s = 10·c: the paper's "10c" read as a product, as in the authors' MATLAB demo, {@code 10 * exp(randn)}. */
    TEN_TIMES_C("10c"),
    /** s = 10^c. */
    TEN_TO_THE_C("10^c");

    private final String label;

    FactorForm(String label) {
      this.label = label;
    }

    /** The spelling of configs and of the command line: {@code 10c} or {@code 10^c}. */
    public String label() {
      return label;
    }

    /** The factor s for a given c. */
    public double factor(double c) {
      return this == TEN_TIMES_C ? 10 * c : Math.pow(10, c);
    }

    /** The form spelled {@code 10c} or {@code 10^c}. */
    public static FactorForm parse(String s) {
      for (FactorForm f : values()) {
        if (f.label.equals(s)) {
          return f;
        }
      }
      throw new IllegalArgumentException("unbalancing factor: expected 10c or 10^c, got '" + s + "'");
    }
  }

  /**
   * How many hidden units the unbalanced initialization picks, and from which pool: {@link PerLayer}, a count relative
   * to each hidden layer's width (the default, a quarter), or {@link Total}, an absolute count over all hidden layers.
   */
  public sealed interface Density permits PerLayer, Total {}

  /**
   * k_l = round(fraction · n_l) picks in each hidden layer l = 1..L−1, each uniform over that layer's n_l units, with
   * replacement. Rounding is half up, k_l = ⌊fraction·n_l + 1/2⌋ ({@link Math#round(double)}): a quarter of a
   * 4000-unit layer is 1000 picks, of 32 units 8, of 6 units 2 (1.5 rounds up), of 1 unit 0.
   *
   * <p>This is the density of the authors' own MATLAB demo of Path-SGD (the copy of the release in the public
   * repository {@code lokhande-vishnu/deepcg}, folder {@code path-sgd/}, file {@code initialize.m}; paper-spec §3,
   * E3, "Initialization"): per hidden layer a quarter of its units, drawn with replacement, 1000 + 1000 = 2000 picks
   * for 2×4000. The density is relative to the width, so the expected number of picks per unit (the fraction) is the
   * same on any network.
   *
   * @param fraction picks per unit of width, finite and ≥ 0 (above 1: more than one pick per unit on average)
   */
  public record PerLayer(double fraction) implements Density {
    public PerLayer {
      if (!(fraction >= 0) || Double.isInfinite(fraction)) {
        throw new IllegalArgumentException("unbalancing fraction must be finite and >= 0, got " + fraction);
      }
    }

    /** k_l for the hidden layers l = 1..L−1 of {@code lay}, at index l−1. */
    public int[] picks(ParamLayout lay) {
      int[] k = new int[lay.layers() - 1];
      for (int l = 1; l < lay.layers(); l++) {
        long n = Math.round(fraction * lay.width(l));
        if (n > Integer.MAX_VALUE) {
          throw new IllegalArgumentException("unbalancing fraction " + fraction + " asks for " + n + " picks in hidden"
              + " layer " + l + " of width " + lay.width(l));
        }
        k[l - 1] = (int) n;
      }
      return k;
    }
  }

  /**
   * {@code count} picks in all, each uniform over all H = Σ_l n_l hidden units of all hidden layers, with replacement
   * (layer l gets count·n_l/H in expectation). This was the only density before {@link PerLayer} became the default,
   * with count 2000 (the paper-spec's [Rec] reading of the paper's "2000 units" as one pool): on 2×4000 it makes as
   * many picks as the demo, but on a small network many per unit, e.g. 31 per unit of 2×32, and factors beyond float32.
   *
   * @param count the number of picks, ≥ 0
   */
  public record Total(int count) implements Density {
    public Total {
      if (count < 0) {
        throw new IllegalArgumentException("unbalancing count must be >= 0, got " + count);
      }
    }
  }

  /**
   * Options of the unbalanced initialization; see {@link #unbalance(Mlp, Unbalance, Rng)} for the formula.
   *
   * @param density how many units are picked: {@link PerLayer} (default, a quarter of each hidden layer's units) or
   *     {@link Total} (an absolute count over all hidden layers)
   * @param form the factor 10·c (default) or 10^c
   * @param mu μ of the log-normal, default 0
   * @param sigma σ of the log-normal, default 1
   */
  public record Unbalance(Density density, FactorForm form, double mu, double sigma) {
    /** The default fraction of each hidden layer's units that is picked: a quarter, as in the authors' MATLAB demo. */
    public static final double DEFAULT_FRACTION = 0.25;

    /** The authors' MATLAB demo: a quarter of each hidden layer's units, factor 10·c, c ~ LogNormal(0, 1). */
    public static final Unbalance DEFAULT = perLayer(DEFAULT_FRACTION);

    public Unbalance {
      if (density == null || form == null || !(sigma >= 0) || Double.isInfinite(sigma) || !Double.isFinite(mu)) {
        throw new IllegalArgumentException("bad unbalancing options: density=" + density + ", form=" + form + ", mu="
            + mu + ", sigma=" + sigma);
      }
    }

    /** {@code fraction} of each hidden layer's units, factor 10·c, c ~ LogNormal(0, 1). */
    public static Unbalance perLayer(double fraction) {
      return new Unbalance(new PerLayer(fraction), FactorForm.TEN_TIMES_C, 0, 1);
    }

    /** {@code count} picks over all hidden layers (the former default was 2000), factor 10·c, c ~ LogNormal(0, 1). */
    public static Unbalance total(int count) {
      return new Unbalance(new Total(count), FactorForm.TEN_TIMES_C, 0, 1);
    }

    /** One line for messages and metadata, e.g. {@code fraction 0.25 per hidden layer, factor 10c, mu 0, sigma 1}. */
    public String describe() {
      String d = density instanceof PerLayer p ? "fraction " + num(p.fraction()) + " per hidden layer"
          : "count " + ((Total) density).count() + " over all hidden layers";
      return d + ", factor " + form.label() + ", mu " + num(mu) + ", sigma " + num(sigma);
    }
  }

  /**
   * The paper's unbalanced initialization ([PS] §5: "we first initialize the weights as in the balanced case and then
   * apply rescalings to random units"), in place. Each pick of a hidden unit v applies ρ_{s,v} with
   *
   * <pre>
   *   s = 10·c  (or 10^c),   c = exp(μ + σ·z),   z ~ N(0, 1),
   * </pre>
   *
   * multiplying the incoming weights <em>and the bias</em> of v by s and dividing its outgoing weights by s, so the
   * result computes the same function as {@code net} on entry (up to float rounding). A unit picked several times gets
   * the product of its factors. Which units: {@link PerLayer} (the default, a quarter of each hidden layer, as the
   * authors' MATLAB demo) makes round(fraction·n_l) picks uniform within each hidden layer l; {@link Total} makes
   * {@code count} picks uniform over all hidden units of all hidden layers. Both draw with replacement.
   *
   * <p>Randomness, all from {@code rng}, in this order. {@link PerLayer}: for l = 1, …, L−1 in turn, k_l picks, each
   * one {@code rng.nextInt(n_l)} (the unit) then one {@code rng.nextGaussian()} (z). {@link Total}: {@code count}
   * picks, each one {@code rng.nextInt(H)} (an index into the H hidden units numbered layer by layer, layer 1 first)
   * then one {@code rng.nextGaussian()}. Nothing else is drawn ({@link Rng#nextGaussian} caches the second value of
   * each polar pair, which the next pick uses).
   *
   * <p>All picks are drawn first, then applied in draw order with {@link #scaleUnit(Mlp, int, int, double)}, one pick
   * at a time, exactly as if each were applied when drawn. This method does not check the result: a product of factors
   * beyond the float range sends weights to infinity or to zero; {@link #unbalanceChecked} refuses those.
   *
   * @return the per-unit products of the factors applied, {@code f[l][v]} for the hidden layers l = 1..L−1 ({@code
   *     f[0]} and {@code f[L]} are null): the form {@link #scaleAll(Mlp, double[][])} takes, so scaling the network on
   *     entry by them reproduces the result to float rounding, and scaling the result by their reciprocals maps it back
   * @throws Refused if a drawn factor or a unit's product of factors is not a positive finite double; then nothing has
   *     been applied
   */
  public static double[][] unbalance(Mlp net, Unbalance opts, Rng rng) {
    ParamLayout lay = net.layout();
    int layers = lay.layers();
    double[][] f = new double[layers + 1][];
    for (int l = 1; l < layers; l++) {
      f[l] = new double[lay.width(l)];
      java.util.Arrays.fill(f[l], 1.0);
    }
    int hidden = lay.hiddenUnits();
    int[] perLayer = opts.density() instanceof PerLayer p ? p.picks(lay) : null;
    long n = 0;
    if (perLayer != null) {
      for (int k : perLayer) {
        n += k;
      }
    } else if (hidden > 0) {
      n = ((Total) opts.density()).count();
    }
    if (n > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException("too many unbalancing picks: " + n);
    }
    int[] pl = new int[(int) n];
    int[] pu = new int[(int) n];
    double[] ps = new double[(int) n];
    int k = 0;
    if (perLayer != null) {
      for (int l = 1; l < layers; l++) {
        for (int j = 0; j < perLayer[l - 1]; j++, k++) {
          pl[k] = l;
          pu[k] = rng.nextInt(lay.width(l));
          ps[k] = draw(opts, rng, f, l, pu[k], k, (int) n);
        }
      }
    } else {
      for (; k < n; k++) {
        int idx = rng.nextInt(hidden);
        int layer = 1;
        while (idx >= lay.width(layer)) {
          idx -= lay.width(layer);
          layer++;
        }
        pl[k] = layer;
        pu[k] = idx;
        ps[k] = draw(opts, rng, f, layer, idx, k, (int) n);
      }
    }
    for (int j = 0; j < n; j++) {
      scaleUnit(net, pl[j], pu[j], ps[j]);
    }
    return f;
  }

  /** One pick's factor s (one nextGaussian), multiplied into f[layer][unit]; refuses a non-finite s or product. */
  private static double draw(Unbalance opts, Rng rng, double[][] f, int layer, int unit, int pick, int picks) {
    double c = Math.exp(opts.mu() + opts.sigma() * rng.nextGaussian());
    double s = opts.form().factor(c);
    double prod = f[layer][unit] * s;
    if (!(s > 0) || Double.isInfinite(s) || !(prod > 0) || Double.isInfinite(prod)) {
      String what = !(s > 0) || Double.isInfinite(s) ? "factor " + num(s) + " (c = " + num(c) + ")"
          : "product of factors " + num(prod);
      throw new Refused("unbalanced rescaling (" + opts.describe() + ") refused: pick " + (pick + 1) + " of " + picks
          + " gives hidden layer " + layer + ", unit " + unit + " (of " + f[layer].length + ") a " + what
          + ", beyond the double range", layer, unit, prod);
    }
    f[layer][unit] = prod;
    return s;
  }

  /**
   * {@link Init#balanced} from {@code initRng}, then {@link #unbalanceChecked} from {@code unbalanceRng}.
   *
   * @throws Refused if the rescaled network fails {@link #verify}
   */
  public static Mlp unbalanced(ParamLayout layout, Rng initRng, Unbalance opts, Rng unbalanceRng) {
    Mlp net = Init.balanced(layout, initRng);
    unbalanceChecked(net, opts, unbalanceRng);
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

  /** Rows of random inputs, uniform in [0, 1), on which {@link #unbalanceChecked} compares the two networks. */
  public static final int CHECK_ROWS = 64;

  /** The relative tolerance of {@link #verify}'s equivalence check, against the largest |output| of the original. */
  public static final double RELATIVE_TOLERANCE = 1e-4;

  /**
   * A refused rescaling. The message is one line: what failed, the options where known, and the largest factor with
   * its hidden layer and unit (also {@link #layer()}, {@link #unit()}, {@link #factor()}).
   */
  public static final class Refused extends IllegalArgumentException {
    private final int layer;
    private final int unit;
    private final double factor;

    public Refused(String message, int layer, int unit, double factor) {
      super(message);
      this.layer = layer;
      this.unit = unit;
      this.factor = factor;
    }

    /** The hidden layer (1..L−1) of the largest factor (or of the factor that could not be formed). */
    public int layer() {
      return layer;
    }

    /** Its unit. */
    public int unit() {
      return unit;
    }

    /** The factor (a unit's product of factors). */
    public double factor() {
      return factor;
    }
  }

  /**
   * What {@link #verify} found.
   *
   * @param overflows weights and biases of the rescaled network that are ±∞ or NaN where the original's are finite
   * @param underflows weights and biases non-zero in the original that became 0, or subnormal (|w| &lt; 2^-126), in the
   *     rescaled network (one already subnormal in the original counts only if it became 0)
   * @param maxDifference max |f_w(x) − f_w̃(x)| over the outputs (logits) of the check batch; NaN or ∞ if the rescaled
   *     network's outputs are
   * @param tolerance the largest allowed difference, {@link #RELATIVE_TOLERANCE}·m + ulp(m), m = max |f_w(x)|
   * @param layer the hidden layer of the largest factor (0 if the network has no hidden layer)
   * @param unit its unit (−1 if none)
   * @param largestFactor the largest factor over all hidden units (1 if none)
   * @param problem null if the rescaled network passed, else one line naming the failure and the largest factor with
   *     its layer and unit
   */
  public record Verification(int overflows, int underflows, double maxDifference, double tolerance, int layer,
      int unit, double largestFactor, String problem) {
    public boolean ok() {
      return problem == null;
    }
  }

  /**
   * {@link #unbalance}, then {@link #verify} against the network on entry, on {@link #CHECK_ROWS} rows of inputs drawn
   * by {@link #randomInputs} from {@code rng.split("check")}. The split is taken before the first pick and does not
   * advance {@code rng}, so the picks, the factors and the result are exactly those of {@link #unbalance} with the same
   * {@code rng}.
   *
   * @return the per-unit products of the factors, as {@link #unbalance}
   * @throws Refused if a factor cannot be formed, a rescaled weight or bias overflows or underflows, or the outputs
   *     differ beyond the tolerance; {@code net} is then left as it was on entry
   */
  public static double[][] unbalanceChecked(Mlp net, Unbalance opts, Rng rng) {
    Rng inputs = rng.split("check");
    Mlp original = net.copy();
    double[][] f = unbalance(net, opts, rng);
    int n0 = net.layout().inputs();
    Verification v = verify(original, net, f, randomInputs(n0, CHECK_ROWS, inputs), CHECK_ROWS);
    if (!v.ok()) {
      net.params().copyFrom(original.params());
      throw new Refused("unbalanced rescaling (" + opts.describe() + ") refused: " + v.problem(), v.layer(), v.unit(),
          v.largestFactor());
    }
    return f;
  }

  /** {@code rows} rows of {@code n} inputs uniform in [0, 1), row-major: rows·n {@link Rng#nextFloat} draws. */
  public static float[] randomInputs(int n, int rows, Rng rng) {
    float[] x = new float[n * rows];
    for (int i = 0; i < x.length; i++) {
      x[i] = rng.nextFloat();
    }
    return x;
  }

  /**
   * Checks a rescaled network against the network it was rescaled from, in two parts.
   *
   * <ol>
   *   <li>Range. Every weight and bias of {@code rescaled} must be finite (±∞ or NaN is an overflow), and one that is
   *       non-zero in {@code original} must stay a normal float, |w̃| ≥ 2^-126 ({@link Float#MIN_NORMAL}): one that
   *       became 0 or subnormal has lost its value (an underflow).
   *   <li>Equivalence. d = max |f_w(x) − f_w̃(x)| over the outputs of the first B rows of {@code batch}, without
   *       dropout, must satisfy d ≤ {@link #RELATIVE_TOLERANCE}·m + ulp(m), where m = max |f_w(x)| and ulp is float32's
   *       at m (so networks whose outputs are all 0 must agree exactly); a NaN or infinite d fails. Node-wise rescaling
   *       leaves float32's relative rounding unchanged as long as nothing overflows or underflows, so the rounding of
   *       the forward pass and of the rescaled weights (one rounding per pick) stays near 2^-24·√fan-in relative to the
   *       magnitudes involved, around 1e-6 of m at the widths used here; a broken rescaling (a factor on one side
   *       only, digits lost in an intermediate subnormal, an activation beyond float range) differs by O(m).
   * </ol>
   *
   * <p>A failure's {@link Verification#problem()} names the counts, the first offending weight or bias in parameter
   * order by its safetensors name ({@code layers.i.weight[o, j]}, {@code layers.i.bias[o]}) with its net factor
   * f_{i+1}[o]/f_i[j], or the difference and the tolerance; and the largest factor with its hidden layer and unit.
   *
   * @param factors the per-unit factors f[l][v], l = 1..L−1, as {@link #scaleAll(Mlp, double[][])} takes them (used to
   *     name the largest factor and the net factor of an offending weight)
   */
  public static Verification verify(Mlp original, Mlp rescaled, double[][] factors, float[] batch, int B) {
    ParamLayout lay = original.layout();
    if (!lay.equals(rescaled.layout())) {
      throw new IllegalArgumentException("networks of different shapes: " + lay + " vs " + rescaled.layout());
    }
    int layers = lay.layers();
    int bestL = 0;
    int bestU = -1;
    double best = 1;
    for (int l = 1; l < layers; l++) {
      for (int v = 0; v < lay.width(l); v++) {
        double s = factors[l][v];
        if (bestU < 0 || s > best || Double.isNaN(s)) {
          bestL = l;
          bestU = v;
          best = s;
        }
      }
    }
    String largest = bestU < 0 ? "no hidden unit" : "largest factor " + sci(best) + " at hidden layer " + bestL
        + ", unit " + bestU + " (of " + lay.width(bestL) + ")";

    Tensor a = original.params();
    Tensor b = rescaled.params();
    int over = 0;
    int under = 0;
    String first = null;
    for (int l = 0; l < layers; l++) {
      int in = lay.in(l);
      for (int o = 0, O = lay.out(l); o < O; o++) {
        double fo = l + 1 < layers ? factors[l + 1][o] : 1;
        for (int j = 0; j <= in; j++) { // j == in: the bias
          int i = j < in ? lay.weightOffset(l) + o * in + j : lay.biasOffset(l) + o;
          float w = a.get(i);
          float r = b.get(i);
          boolean overflow = Float.isFinite(w) && !Float.isFinite(r);
          boolean underflow = w != 0 && (r == 0 || (Math.abs(r) < Float.MIN_NORMAL && Math.abs(w) >= Float.MIN_NORMAL));
          if (overflow || underflow) {
            if (overflow) {
              over++;
            } else {
              under++;
            }
            if (first == null) {
              double net = j < in && l >= 1 ? fo / factors[l][j] : fo;
              first = (j < in ? "layers." + l + ".weight[" + o + ", " + j + "]" : "layers." + l + ".bias[" + o + "]")
                  + " " + sci(w) + " -> " + sci(r) + ", net factor " + sci(net);
            }
          }
        }
      }
    }

    float[] fa = Equivalence.outputs(original, batch, B);
    float[] fb = Equivalence.outputs(rescaled, batch, B);
    double m = 0;
    double d = 0;
    for (int i = 0; i < fa.length; i++) {
      m = Math.max(m, Math.abs((double) fa[i]));
      double e = Math.abs((double) fa[i] - fb[i]);
      d = Double.isNaN(e) || Double.isNaN(d) ? Double.NaN : Math.max(d, e);
    }
    double tol = RELATIVE_TOLERANCE * m + Math.ulp((float) m);

    String problem = null;
    if (over > 0 || under > 0) {
      String counts = over > 0 ? over + " weights/biases overflow to infinity"
          + (under > 0 ? ", " + under + " underflow to zero or a subnormal float" : "")
          : under + " weights/biases underflow to zero or a subnormal float";
      problem = counts + " (first: " + first + "); " + largest;
    } else if (!(d <= tol)) {
      problem = "the outputs on " + B + " random inputs differ by " + sci(d) + ", beyond the tolerance " + sci(tol)
          + " (" + RELATIVE_TOLERANCE + " of the largest |output| " + sci(m) + "); " + largest;
    }
    return new Verification(over, under, d, tol, bestL, bestU, best, problem);
  }

  private static String sci(double v) {
    return String.format(java.util.Locale.ROOT, "%.3g", v);
  }

  /** A compact number for options: integers without a fraction, others as {@link Double#toString}. */
  private static String num(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }
}
