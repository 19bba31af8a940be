package io.github.pathsgd.core.nn;

/**
 * Dropout settings, as retain probabilities (the chapter's convention: "retain 0.5"). {@code hiddenRetain} applies to
 * every hidden unit, {@code inputRetain} to the input features. A retain probability of 1 means no dropout there.
 * {@link #fromDropProbability(double)} converts PyTorch's drop probability.
 */
public record Dropout(float hiddenRetain, float inputRetain) {
  /** No dropout. */
  public static final Dropout NONE = new Dropout(1f, 1f);

  public Dropout {
    if (!(hiddenRetain > 0f && hiddenRetain <= 1f)) {
      throw new IllegalArgumentException("hidden retain probability must be in (0, 1], got " + hiddenRetain);
    }
    if (!(inputRetain > 0f && inputRetain <= 1f)) {
      throw new IllegalArgumentException("input retain probability must be in (0, 1], got " + inputRetain);
    }
  }

  /** Hidden-unit dropout with drop probability {@code p} in [0, 1), as in PyTorch's {@code nn.Dropout(p)}. */
  public static Dropout fromDropProbability(double p) {
    if (!(p >= 0 && p < 1)) {
      throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
    }
    return new Dropout((float) (1 - p), 1f);
  }

  /** Whether any unit can be dropped. */
  public boolean active() {
    return hiddenRetain < 1f || inputRetain < 1f;
  }
}
