package io.github.pathsgd.core.optim;

import io.github.pathsgd.core.geometry.Kappa;
import io.github.pathsgd.core.geometry.Rescaling;
import io.github.pathsgd.core.geometry.RescalingGroups;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.NetLayout;
import io.github.pathsgd.core.tensor.Tensor;
import java.nio.FloatBuffer;

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
 * with 1 ≤ layer ≤ L−1 the width index of a hidden layer. For a network of layers ({@link io.github.pathsgd.core.nn.NetLayout} without a dense chain: conv,
 * pooling, dense, residual blocks) they are the groups of {@link RescalingGroups}: (k, ch) with k the flat index of a
 * hidden layer behind a ReLU and ch its filter or unit, with every unit tied to it (the two ends of an identity
 * skip); the buffers scale over the group's ranges ({@link RescalingGroups#forEachRange}), and Path-SGD's
 * per-parameter κ ({@link #kappaPerParameter}) like a squared gradient: incoming ×1/c², outgoing ×c².
 */
public final class UnitRescaling {
  private final DenseChain layout; // fully connected, else null
  private final RescalingGroups.Family group; // a network of layers, else null
  private final int layer;
  private final int unit;
  private final double c;
  private final boolean after;

  private UnitRescaling(DenseChain layout, RescalingGroups.Family group, int layer, int unit, double c,
      boolean after) {
    this.layout = layout;
    this.group = group;
    this.layer = layer;
    this.unit = unit;
    this.c = c;
    this.after = after;
  }

  /** ρ_{c,v} for hidden unit {@code unit} of width index {@code layer}; refuses a unit or factor out of range. */
  public static UnitRescaling of(DenseChain layout, int layer, int unit, double c) {
    Rescaling.check(layout, layer, unit, c);
    return new UnitRescaling(layout, null, layer, unit, c, false);
  }

  /**
   * ρ_{c,ch} for group (k, ch) of a network of layers: channel {@code ch} of the hidden layer at flat index {@code k}
   * ({@link RescalingGroups}) with every unit tied to it; refuses what is out of range, naming it.
   */
  public static UnitRescaling ofChannel(NetLayout layout, int k, int ch, double c) {
    return ofGroup(RescalingGroups.of(layout.sequence()).family(k), ch, c);
  }

  /** ρ_{c,ch} for group ch of a family of {@link RescalingGroups}; refuses a channel or factor out of range. */
  public static UnitRescaling ofGroup(RescalingGroups.Family family, int ch, double c) {
    RescalingGroups.check(family, ch, c);
    return new UnitRescaling(null, family, family.flat(), ch, c, false);
  }

  /**
   * Applies ρ_c to a state (a chain recurses into its children): unit {@code unit} of width index {@code layer} of a
   * fully connected network, or channel {@code unit} of hidden layer {@code layer} of a network of layers.
   */
  public static void apply(OptState state, int layer, int unit, double c) {
    state.rescale(of(state.layout(), layer, unit, c));
  }

  private static UnitRescaling of(NetLayout layout, int layer, int unit, double c) {
    DenseChain chain = layout.denseChain();
    return chain != null ? of(chain, layer, unit, c) : ofChannel(layout, layer, unit, c);
  }

  /**
   * One factor per hidden unit, {@code factors[layer][unit]} for layer = 1..L−1, as {@link Rescaling#scaleAll}; for a
   * network of layers one per channel, {@code factors[k][ch]} for its hidden layers k, as {@link
   * RescalingGroups#scaleAll} (flat indices k).
   */
  public static void applyAll(OptState state, double[][] factors) {
    DenseChain lay = state.layout().denseChain();
    if (lay == null) {
      for (RescalingGroups.Family fam : RescalingGroups.of(state.layout().sequence()).families()) {
        for (int ch = 0; ch < fam.channels(); ch++) {
          state.rescale(ofGroup(fam, ch, factors[fam.flat()][ch]));
        }
      }
      return;
    }
    for (int l = 1; l < lay.layers(); l++) {
      for (int v = 0; v < lay.width(l); v++) {
        apply(state, l, v, factors[l][v]);
      }
    }
  }

  /** The same rescaling as seen by buffers downstream of a normalization (g⊘κ transforms like the weights). */
  public UnitRescaling afterNormalization() {
    return after ? this : new UnitRescaling(layout, group, layer, unit, c, true);
  }

  /** A buffer of gradients (parameter layout): incoming ×1/c, outgoing ×c (after a normalization: ×c, ×1/c). */
  public void gradientLike(Tensor t) {
    double g = after ? c : 1.0 / c;
    scaleInOut(t.buffer(), g, 1.0 / g);
  }

  /** A buffer of squared gradients: the square of {@link #gradientLike}'s factors. */
  public void squaredGradientLike(Tensor t) {
    double g = after ? c : 1.0 / c;
    scaleInOut(t.buffer(), g * g, 1.0 / (g * g));
  }

  private void scaleInOut(FloatBuffer b, double in, double out) {
    if (group != null) {
      RescalingGroups.scaleInOut(group, b, unit, in, out);
    } else {
      Rescaling.scaleInOut(layout, b, layer, unit, in, out);
    }
  }

  /**
   * Path-SGD's κ of every parameter of a network of layers, stored as mantissas and exponents ({@link Kappa#encode}):
   * the channel's incoming parameters ×1/c² (κ(w_{u→v}) = (γ_in(u)·γ_out(v))^{2/p}, γ_out(v) ×c^{-p}), the weights
   * reading it ×c², in double.
   */
  public void kappaPerParameter(Tensor m, Tensor e) {
    FloatBuffer mb = m.buffer();
    FloatBuffer eb = e.buffer();
    double in = 1.0 / (c * c);
    double out = c * c;
    RescalingGroups.forEachRange(group, unit, (from, n) -> {
      for (int i = from; i < from + n; i++) {
        Kappa.scale(mb, eb, i, in);
      }
    }, (from, n) -> {
      for (int i = from; i < from + n; i++) {
        Kappa.scale(mb, eb, i, out);
      }
    });
  }

  /**
   * Path-SGD's κ factors stored as mantissas and exponents ({@link Kappa#encode}): the unit's κ_in (as an input of
   * W_layer) ×c², its κ_out (as an output of W_{layer−1}) ×1/c², in double.
   */
  public void kappaFactors(Tensor inM, Tensor inE, Tensor outM, Tensor outE) {
    Kappa.scale(inM.buffer(), inE.buffer(), Kappa.inOffset(layout, layer) + unit, c * c);
    Kappa.scale(outM.buffer(), outE.buffer(), Kappa.outOffset(layout, layer - 1) + unit, 1.0 / (c * c));
  }

  /** The fully connected layout, or null for a network of layers. */
  public DenseChain layout() {
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
