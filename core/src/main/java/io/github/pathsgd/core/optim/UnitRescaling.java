package io.github.pathsgd.core.optim;

import io.github.pathsgd.core.geometry.Kappa;
import io.github.pathsgd.core.geometry.Rescaling;
import io.github.pathsgd.core.nn.ParamLayout;
import io.github.pathsgd.core.tensor.Tensor;

/**
 * The node-wise rescaling ρ_{c,v} as it acts on optimizer state (Neyshabur, Salakhutdinov and Srebro, "Path-SGD", NIPS
 * 2015, §2; docs/paper-spec.md §2.2): the network's weights into hidden unit v (and its bias) are multiplied by c and
 * those out of v by 1/c ({@link Rescaling#scaleUnit}); each state says how its own buffers follow ({@link
 * OptState#rescale}), through the kinds of this class:
 *
 * <ul>
 *   <li>{@link #gradientLike}: a buffer of raw gradients (momentum): incoming ×1/c, outgoing ×c;
 *   <li>{@link #squaredGradientLike}: of squared gradients (AdaGrad's sum): ×1/c², ×c²;
 *   <li>after a normalization in a chain ({@link #afterNormalization}), buffers hold directions g⊘κ, which transform
 *       like the weights: momentum incoming ×c, outgoing ×1/c (squared: ×c², ×1/c²);
 *   <li>{@link #kappaFactors}: Path-SGD's factors κ_in(v) = γ_in(v)^{2/p} ×c², κ_out(v) = γ_out(v)^{2/p} ×1/c².
 * </ul>
 *
 * Scalars (counts, the κ floor, "ratio") are left alone. Units are addressed as in {@link Rescaling}: (layer, unit)
 * with 1 ≤ layer ≤ L−1 the width index of a hidden layer.
 */
public final class UnitRescaling {
  private final ParamLayout layout;
  private final int layer;
  private final int unit;
  private final double c;
  private final boolean after;

  private UnitRescaling(ParamLayout layout, int layer, int unit, double c, boolean after) {
    this.layout = layout;
    this.layer = layer;
    this.unit = unit;
    this.c = c;
    this.after = after;
  }

  /** ρ_{c,v} for hidden unit {@code unit} of width index {@code layer}; refuses a unit or factor out of range. */
  public static UnitRescaling of(ParamLayout layout, int layer, int unit, double c) {
    Rescaling.check(layout, layer, unit, c);
    return new UnitRescaling(layout, layer, unit, c, false);
  }

  /** Applies ρ_{c,v} to a state (a chain recurses into its children). */
  public static void apply(OptState state, int layer, int unit, double c) {
    state.rescale(of(mlp(state), layer, unit, c));
  }

  /** One factor per hidden unit, {@code factors[layer][unit]} for layer = 1..L−1, as {@link Rescaling#scaleAll}. */
  public static void applyAll(OptState state, double[][] factors) {
    ParamLayout lay = mlp(state);
    for (int l = 1; l < lay.layers(); l++) {
      for (int v = 0; v < lay.width(l); v++) {
        apply(state, l, v, factors[l][v]);
      }
    }
  }

  /** The fully connected layout of a state; refuses the state of a network of layers (channels: not implemented). */
  private static ParamLayout mlp(OptState state) {
    if (state.layout() instanceof ParamLayout p) {
      return p;
    }
    throw new UnsupportedOperationException("node-wise rescaling of optimizer state is implemented for fully connected"
        + " networks only, not for " + state.layout());
  }

  /** The same rescaling as seen by buffers downstream of a normalization (g⊘κ transforms like the weights). */
  public UnitRescaling afterNormalization() {
    return after ? this : new UnitRescaling(layout, layer, unit, c, true);
  }

  /** A buffer of gradients (parameter layout): incoming ×1/c, outgoing ×c (after a normalization: ×c, ×1/c). */
  public void gradientLike(Tensor t) {
    double g = after ? c : 1.0 / c;
    Rescaling.scaleInOut(layout, t.buffer(), layer, unit, g, 1.0 / g);
  }

  /** A buffer of squared gradients: the square of {@link #gradientLike}'s factors. */
  public void squaredGradientLike(Tensor t) {
    double g = after ? c : 1.0 / c;
    Rescaling.scaleInOut(layout, t.buffer(), layer, unit, g * g, 1.0 / (g * g));
  }

  /**
   * Path-SGD's κ factors stored as mantissas and exponents ({@link Kappa#encode}): the unit's κ_in (as an input of
   * W_layer) ×c², its κ_out (as an output of W_{layer−1}) ×1/c², in double.
   */
  public void kappaFactors(Tensor inM, Tensor inE, Tensor outM, Tensor outE) {
    Kappa.scale(inM.buffer(), inE.buffer(), Kappa.inOffset(layout, layer) + unit, c * c);
    Kappa.scale(outM.buffer(), outE.buffer(), Kappa.outOffset(layout, layer - 1) + unit, 1.0 / (c * c));
  }

  public ParamLayout layout() {
    return layout;
  }

  public int layer() {
    return layer;
  }

  public int unit() {
    return unit;
  }

  public double factor() {
    return c;
  }
}
