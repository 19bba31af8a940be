package io.github.pathsgd.core.geometry;

import io.github.pathsgd.core.nn.DenseChain;

/**
 * Options of the paper's unbalanced initialization (Neyshabur, Salakhutdinov and Srebro, "Path-SGD", NIPS 2015, §5;
 * docs/paper-spec.md §3, E3); see
 * {@link Rescaling#unbalance} for the formula.
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
   * repository {@code lokhande-vishnu/deepcg}, folder {@code path-sgd/}, file {@code initialize.m}; docs/paper-spec.md §3,
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
    public int[] picks(DenseChain lay) {
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
   * with count 2000 (docs/paper-spec.md's [Rec] reading of the paper's "2000 units" as one pool): on 2×4000 it makes as
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

  /** A compact number for options: integers without a fraction, others as {@link Double#toString}. */
  static String num(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }
}
