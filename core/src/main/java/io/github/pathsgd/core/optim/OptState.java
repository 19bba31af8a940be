package io.github.pathsgd.core.optim;

import io.github.pathsgd.core.nn.NetLayout;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The explicit, typed state of a {@link GradientTransform} (optax's {@code OptState}): each transform declares its own
 * state class, which holds its buffers and statistics, knows how it transforms under a node-wise rescaling ({@link
 * #rescale}), and flattens itself for a checkpoint.
 *
 * <p>The checkpoint form, {@link #export()}: {@code path -> float[]} for buffers and {@code path -> double[1]} for the
 * step count and scalars, with paths such as {@code "1.momentum"}, {@code "1#count"}, {@code "0$clamped"} (a chain's
 * child i under the prefix {@code "i."}). {@link #restore(Map)} puts them back into a state freshly made by the same
 * transform.
 */
public interface OptState {
  /** The parameter layout the state's buffers follow (a network's {@link NetLayout}). */
  NetLayout layout();

  /** The number of updates applied so far. */
  long count();

  /**
   * Applies the node-wise rescaling ρ_{c,v} of the network to this state, so that a rescaled run continues exactly as
   * the image of the original (Neyshabur, Salakhutdinov and Srebro, NIPS 2015, §2; docs/paper-spec.md §2.2).
   */
  void rescale(UnitRescaling r);

  /**
   * Whether this state belongs to a normalization whose outgoing updates transform like the weights (Path-SGD's g⊘κ):
   * the states of later transforms in a chain then see {@link UnitRescaling#afterNormalization()}.
   */
  default boolean normalizes() {
    return false;
  }

  /**
   * The number of coordinates of the last step whose path scale κ was clamped or could not be represented (Path-SGD;
   * a chain sums its children). 0 for transforms without a κ.
   */
  default long clamped() {
    return 0;
  }

  /** Writes the checkpoint entries of this state under {@code prefix}; see {@link #export()}. */
  void exportTo(String prefix, Map<String, Object> out);

  /** Reads what {@link #exportTo} wrote under {@code prefix}. */
  void restoreFrom(String prefix, Map<String, Object> saved);

  /** All buffers, scalars and counts as {@code path -> float[]} or {@code path -> double[1]}. */
  default Map<String, Object> export() {
    Map<String, Object> out = new LinkedHashMap<>();
    exportTo("", out);
    return out;
  }

  /** Restores what {@link #export()} produced, into a state of the same structure. */
  default void restore(Map<String, Object> saved) {
    restoreFrom("", saved);
  }
}
