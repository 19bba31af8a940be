package io.github.pathsgd.core.optim;

import io.github.pathsgd.core.nn.NetLayout;
import io.github.pathsgd.core.tensor.Tensor;

/**
 * A gradient transformation in the style of optax (Babuschkin et al., "The DeepMind JAX Ecosystem", 2020): a pair of
 * functions with explicit, typed state {@code S}.
 *
 * <ul>
 *   <li>{@link #init} allocates the state (buffers of the parameter layout, all zero unless documented).
 *   <li>{@link #update} turns the incoming updates (first the gradient) into outgoing updates, in place, reading and
 *       advancing the state. It may read the current parameters: Path-SGD must, since κ depends on every layer.
 * </ul>
 *
 * Transforms compose with {@link Transforms#chain}. An optimizer is a chain that ends in {@code scale(-lr)}; the
 * caller then adds the updates to the parameters ({@link Optimizer#step}). A transform that can be folded into the
 * weight-gradient GEMM also implements {@link Foldable}.
 *
 * @param <S> the state class the transform declares
 */
public interface GradientTransform<S extends OptState> {
  /**
   * Fresh state for parameters of this layout: a network's {@link NetLayout}, with a {@link
   * NetLayout#denseChain()} (fully connected) or without (a network of layers).
   */
  S init(NetLayout layout);

  /**
   * Transforms {@code updates} in place.
   *
   * @param updates the incoming updates (same layout as the parameters); overwritten with the outgoing ones
   * @param state this transform's state, from {@link #init}; advanced in place
   * @param params the current parameters (read only)
   */
  void update(Tensor updates, S state, Tensor params);

  /** A short human-readable description with the hyper-parameters, e.g. {@code trace(momentum=0.9)}. */
  String describe();

  /** {@link #update} with a state known only as an {@link OptState} (of this transform's {@link #init}). */
  @SuppressWarnings("unchecked")
  default void updateUnchecked(Tensor updates, OptState state, Tensor params) {
    update(updates, (S) state, params);
  }
}
