package io.github.pathsgd.core.geometry;

import io.github.pathsgd.core.nn.Dense;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * Node-wise rescaling ρ_{c,v} and the paper's unbalanced initialization (Neyshabur, Salakhutdinov and Srebro,
 * "Path-SGD", NIPS 2015, §2 and §5; chapter arXiv:1705.03071, Figure 2; docs/paper-spec.md §2.2).
 *
 * <p>For a hidden unit v and c &gt; 0, ρ_{c,v} multiplies every weight into v <em>and its bias</em> by c and every
 * weight out of v by 1/c. Since ReLU(c·z) = c·ReLU(z), the network function is unchanged: f_{ρ(w)} ≡ f_w.
 *
 * <p>Units are addressed by (layer, unit), where {@code layer} is the width index of a hidden layer, 1 ≤ layer ≤
 * L−1 (0 are the inputs, L the outputs, which cannot be rescaled). Its incoming weights are row {@code unit} of
 * W_{layer−1} with bias b_{layer−1}[unit]; its outgoing weights are column {@code unit} of W_{layer}.
 *
 * <p>Optimizer state transforms along through {@code core.optim.UnitRescaling} (each state says how it rescales), so
 * that a rescaled run continues exactly as the image of the original. The options of the unbalanced initialization
 * are {@link Unbalance}; the check of a rescaled network is {@link #verify}.
 */
public final class Rescaling {
  private Rescaling() {}

  /** ρ_{c,v} in place on a network; see the class comment for (layer, unit). */
  public static void scaleUnit(LayerNet net, int layer, int unit, double c) {
    scaleUnit(net.chain(), net.params(), layer, unit, c);
  }

  /** ρ_{c,v} in place on parameters of the given layout. */
  public static void scaleUnit(DenseChain lay, Tensor params, int layer, int unit, double c) {
    check(lay, layer, unit, c);
    scaleInOut(lay, params.buffer(), layer, unit, c, 1.0 / c);
  }

  /**
   * Applies one factor per hidden unit: {@code factors[layer][unit]} for layer = 1..L−1 ({@code factors[0]} and
   * {@code factors[L]} are ignored and may be null). Equivalent to ρ for every unit in turn.
   */
  public static void scaleAll(LayerNet net, double[][] factors) {
    DenseChain lay = net.chain();
    for (int l = 1; l < lay.layers(); l++) {
      for (int v = 0; v < lay.width(l); v++) {
        scaleUnit(net, l, v, factors[l][v]);
      }
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
   * the product of its factors. Which units: {@link Unbalance.PerLayer} (the default, a quarter of each hidden layer, as the
   * authors' MATLAB demo) makes round(fraction·n_l) picks uniform within each hidden layer l; {@link Unbalance.Total} makes
   * {@code count} picks uniform over all hidden units of all hidden layers. Both draw with replacement.
   *
   * <p>Randomness, all from {@code rng}, in this order. {@link Unbalance.PerLayer}: for l = 1, …, L−1 in turn, k_l picks, each
   * one {@code rng.nextInt(n_l)} (the unit) then one {@code rng.nextGaussian()} (z). {@link Unbalance.Total}: {@code count}
   * picks, each one {@code rng.nextInt(H)} (an index into the H hidden units numbered layer by layer, layer 1 first)
   * then one {@code rng.nextGaussian()}. Nothing else is drawn ({@link Rng#nextGaussian} caches the second value of
   * each polar pair, which the next pick uses).
   *
   * <p>All picks are drawn first, then applied in draw order with {@link #scaleUnit(LayerNet, int, int, double)}, one pick
   * at a time, exactly as if each were applied when drawn. This method does not check the result: a product of factors
   * beyond the float range sends weights to infinity or to zero; {@link #unbalanceChecked} refuses those.
   *
   * @return the per-unit products of the factors applied, {@code f[l][v]} for the hidden layers l = 1..L−1 ({@code
   *     f[0]} and {@code f[L]} are null): the form {@link #scaleAll(LayerNet, double[][])} takes, so scaling the network on
   *     entry by them reproduces the result to float rounding, and scaling the result by their reciprocals maps it back
   * @throws Refused if a drawn factor or a unit's product of factors is not a positive finite double; then nothing has
   *     been applied
   */
  public static double[][] unbalance(LayerNet net, Unbalance opts, Rng rng) {
    return RescalingGroups.of(net.layers()).unbalance(net.params().buffer(), opts, rng, UNITS, 1);
  }

  /** How a refusal names a hidden unit: hidden layer l (flat index l − 1), unit v (of n_l). */
  static final RescalingGroups.Namer UNITS = (fam, ch) -> "hidden layer " + (fam.flat() + 1) + ", unit " + ch + " (of "
      + fam.channels() + ")";

  /**
   * {@link Init#balanced} from {@code initRng}, then {@link #unbalanceChecked} from {@code unbalanceRng}.
   *
   * @throws Refused if the rescaled network fails {@link #verify}
   */
  public static LayerNet unbalanced(DenseChain layout, Rng initRng, Unbalance opts, Rng unbalanceRng) {
    LayerNet net = Init.balanced(layout, initRng);
    unbalanceChecked(net, opts, unbalanceRng);
    return net;
  }

  /**
   * Incoming weights and bias of the unit ×in, outgoing ×out. Each product is formed in double and rounded once to
   * float, so a factor need not be representable in float (c = 1e40 on weights of 1e-3 is fine) and ρ_c followed by
   * ρ_{1/c} returns every weight to within one float rounding.
   */
  public static void scaleInOut(DenseChain lay, FloatBuffer b, int layer, int unit, double in, double out) {
    RescalingGroups.scaleInOut(RescalingGroups.of(List.<Layer>of(Dense.of(lay))).family(layer - 1), b, unit, in, out);
  }

  /** Refuses a unit that is not hidden or a factor that is not positive and finite. */
  public static void check(DenseChain lay, int layer, int unit, double c) {
    if (layer < 1 || layer >= lay.layers()) {
      throw new IllegalArgumentException("layer " + layer + " is not a hidden layer of " + lay + " (1.."
          + (lay.layers() - 1) + ")");
    }
    if (unit < 0 || unit >= lay.width(layer)) {
      throw new IllegalArgumentException("unit " + unit + " outside hidden layer " + layer + " of width "
          + lay.width(layer));
    }
    RescalingCheck.checkFactor(c);
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
  public static double[][] unbalanceChecked(LayerNet net, Unbalance opts, Rng rng) {
    Rng inputs = rng.split("check");
    LayerNet original = net.copy();
    double[][] f = unbalance(net, opts, rng);
    int n0 = net.chain().inputs();
    Verification v = verify(original, net, f, randomInputs(n0, CHECK_ROWS, inputs), CHECK_ROWS);
    if (!v.ok()) {
      net.params().copyFrom(original.params());
      throw RescalingCheck.refused(opts, v);
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
   * @param factors the per-unit factors f[l][v], l = 1..L−1, as {@link #scaleAll(LayerNet, double[][])} takes them (used to
   *     name the largest factor and the net factor of an offending weight)
   */
  public static Verification verify(LayerNet original, LayerNet rescaled, double[][] factors, float[] batch, int B) {
    DenseChain lay = original.chain();
    RescalingCheck.sameShape(original.layout(), rescaled.layout());
    int layers = lay.layers();
    int[] widths = new int[layers]; // rows 1..L−1 of factors: the hidden layers
    for (int l = 1; l < layers; l++) {
      widths[l] = lay.width(l);
    }
    RescalingCheck chk = new RescalingCheck();
    chk.largest(factors, widths);
    String largest = chk.unit < 0 ? "no hidden unit" : chk.largestAt("hidden layer " + chk.layer + ", unit " + chk.unit
        + " (of " + lay.width(chk.layer) + ")");

    Tensor a = original.params();
    Tensor b = rescaled.params();
    for (int l = 0; l < layers; l++) {
      int in = lay.in(l);
      for (int o = 0, O = lay.out(l); o < O; o++) {
        double fo = l + 1 < layers ? factors[l + 1][o] : 1;
        for (int j = 0; j <= in; j++) { // j == in: the bias
          int i = j < in ? lay.weightOffset(l) + o * in + j : lay.biasOffset(l) + o;
          float w = a.get(i);
          float r = b.get(i);
          if (chk.count(w, r)) {
            double net = j < in && l >= 1 ? fo / factors[l][j] : fo;
            chk.first(j < in ? "layers." + l + ".weight[" + o + ", " + j + "]" : "layers." + l + ".bias[" + o + "]", w,
                r, ", net factor " + RescalingCheck.sci(net));
          }
        }
      }
    }
    return chk.verification(Equivalence.outputs(original, batch, B), Equivalence.outputs(rescaled, batch, B), B,
        largest);
  }

  /** A compact number for options: integers without a fraction, others as {@link Double#toString}. */
  private static String num(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }
}
