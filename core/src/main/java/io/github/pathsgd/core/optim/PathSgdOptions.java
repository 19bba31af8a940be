package io.github.pathsgd.core.optim;

/**
 * Options of the Path-SGD normalization {@link PathNormalize#of(PathSgdOptions)}.
 *
 * @param p the path-norm exponent, ≥ 1 (default 2, "ℓ2-Path-SGD", the only case in the paper's experiments)
 * @param includeBiases whether γ_in(v) includes |b_v|^p (bias = edge from a constant-1 unit; default true, docs/paper-spec.md
 *     §2.6). Bias coordinates are always normalized by κ(b_v) = γ_out(v)^{2/p}; both settings are rescaling invariant.
 * @param recomputeEvery recompute κ every k steps (default 1: every step, from the current parameters). For k &gt; 1
 *     the rank-one factors of κ are kept in the state between recomputations.
 * @param absoluteFloor the absolute part of the κ floor (default 0: only κ = 0 is special)
 * @param relativeFloor the relative part of the κ floor (default 0, off): every κ is clamped to {@code max(κ,
 *     max(absoluteFloor, relativeFloor·κ_max))}, κ_max being the largest κ of any coordinate (weights and biases) at
 *     the last recomputation. A coordinate whose κ is 0 after the floor (a unit with no path through it: no outgoing
 *     weight, or nothing coming in; its gradient is 0 too) gets no update. The number of coordinates of a step that
 *     were clamped, had κ = 0, or whose κ or update cannot be represented is the state statistic {@code clamped} ({@link OptState#clamped()}). A clamp,
 *     when it happens, is not rescaling invariant; with both floors at 0 (the default) no positive κ is ever changed,
 *     however small: under a rescaling by c a unit's κ moves by c², and a rescaled network's real κ can lie anywhere in
 *     the double range (an absolute floor of 1e-30, the default before, clamped real κ between 1e-38 and 1e-30 whose
 *     gradients were not zero). The relative part is off because the paper's own unbalanced initialization spreads κ
 *     over more than 20 orders of magnitude: a floor of 1e-12·κ_max clamped 1.7 million of the 1.8 million
 *     coordinates of a 784-1000-1000-10 network and destroyed the invariance.
 * @param ratio the reference code's global "ratio" rescaling (default off): at the first step ratio = sqrt(Σ g² /
 *     Σ (g⊘κ)²) is computed and stored (state scalar {@code ratio}, {@link PathNormalizeState#ratio()}), and every step's direction g⊘κ is multiplied by
 *     it. Because ‖g‖ is not rescaling invariant, this breaks exact invariance (equivalent networks get different
 *     global step sizes).
 * @param sweep how the p = 2 pass reads the weights: {@link Sweep#AUTO} (default) in double with SIMD; {@link
 *     Sweep#DOUBLE} in double in the scalar reference loop (slower; a reference). Both are bit-exact under
 *     power-of-two rescalings ({@link io.github.pathsgd.core.geometry.Kappa}). Other p always run in double.
 */
public record PathSgdOptions(double p, boolean includeBiases, int recomputeEvery, double absoluteFloor,
    double relativeFloor, boolean ratio, Sweep sweep) {

  /** How the p = 2 pass of κ reads the weights. */
  public enum Sweep {
    /** In double, with SIMD when the JVM has the Vector API. */
    AUTO,
    /** In double, in the scalar reference loop. */
    DOUBLE
  }

  /** p = 2, biases included, recompute every step, no floor (only κ = 0 is special), no ratio, automatic sweep. */
  public static final PathSgdOptions DEFAULT = new PathSgdOptions(2, true, 1, 0, 0, false, Sweep.AUTO);

  /** Options without the sweep component: {@link Sweep#AUTO}. */
  public PathSgdOptions(double p, boolean includeBiases, int recomputeEvery, double absoluteFloor,
      double relativeFloor, boolean ratio) {
    this(p, includeBiases, recomputeEvery, absoluteFloor, relativeFloor, ratio, Sweep.AUTO);
  }

  public PathSgdOptions {
    if (sweep == null) {
      throw new IllegalArgumentException("Path-SGD sweep must be AUTO or DOUBLE, got null");
    }
    if (!(p >= 1) || Double.isInfinite(p)) {
      throw new IllegalArgumentException("Path-SGD exponent p must be a finite number >= 1, got " + p);
    }
    if (recomputeEvery < 1) {
      throw new IllegalArgumentException("recomputeEvery must be >= 1, got " + recomputeEvery);
    }
    if (!(absoluteFloor >= 0) || !(relativeFloor >= 0) || Double.isInfinite(absoluteFloor)
        || !(relativeFloor < 1)) {
      throw new IllegalArgumentException("κ floors must be finite, >= 0 (relative < 1), got " + absoluteFloor + ", "
          + relativeFloor);
    }
  }

  /** The defaults with exponent p. */
  public static PathSgdOptions ofP(double p) {
    return DEFAULT.withP(p);
  }

  public PathSgdOptions withP(double v) {
    return new PathSgdOptions(v, includeBiases, recomputeEvery, absoluteFloor, relativeFloor, ratio, sweep);
  }

  public PathSgdOptions withIncludeBiases(boolean v) {
    return new PathSgdOptions(p, v, recomputeEvery, absoluteFloor, relativeFloor, ratio, sweep);
  }

  public PathSgdOptions withRecomputeEvery(int v) {
    return new PathSgdOptions(p, includeBiases, v, absoluteFloor, relativeFloor, ratio, sweep);
  }

  public PathSgdOptions withFloor(double absolute, double relative) {
    return new PathSgdOptions(p, includeBiases, recomputeEvery, absolute, relative, ratio, sweep);
  }

  public PathSgdOptions withRatio(boolean v) {
    return new PathSgdOptions(p, includeBiases, recomputeEvery, absoluteFloor, relativeFloor, v, sweep);
  }

  public PathSgdOptions withSweep(Sweep v) {
    return new PathSgdOptions(p, includeBiases, recomputeEvery, absoluteFloor, relativeFloor, ratio, v);
  }

  /** A short description, e.g. {@code p=2.0, biases, every=1, floor=max(0.0, 0.0·max)} for {@link #DEFAULT}. */
  public String describe() {
    return "p=" + p + (includeBiases ? ", biases" : ", no biases") + ", every=" + recomputeEvery + ", floor=max("
        + absoluteFloor + ", " + relativeFloor + "·max)" + (ratio ? ", ratio" : "")
        + (sweep == Sweep.DOUBLE ? ", double sweep" : "");
  }
}
