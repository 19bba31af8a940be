package io.github.pathsgd.core.optim;

import io.github.pathsgd.core.nn.FoldedStep;
import io.github.pathsgd.core.tensor.Tensor;

/**
 * A {@link GradientTransform} whose update has the form u_l ← a · diag(r_l) · u_l · diag(c_l) per layer, so that it
 * can be folded into the weight-gradient GEMM: W_l ← W_l + a·diag(r)·dZᵀX·diag(c) ({@link FoldedStep}, {@link
 * io.github.pathsgd.core.nn.LayerNet#fusedStep}). A folded step must equal {@code update} followed by the parameter update,
 * up to float rounding, and advance the state the same way.
 *
 * @param <S> the transform's state
 */
public interface Foldable<S extends OptState> {
  /**
   * Folds this transform into {@code f} (after the transforms before it in a chain). May refresh lazy state (κ) as
   * {@code update} would; never advances counts. Returns false when this step cannot be folded (the caller then takes
   * the unfused path, which calls {@code update}).
   */
  boolean prepare(S state, Tensor params, FoldedStep f);

  /** After a folded step with a finite loss: advances the state as {@code update} would have. */
  void commit(S state);

  /**
   * Whether {@link #prepare} reads the parameters in a pass over them (Path-SGD's κ), which is worth running on a
   * second thread during the forward pass ({@link io.github.pathsgd.core.step.TrainStep}); false for transforms whose
   * {@code prepare} only multiplies a scalar. {@code prepare} never writes the parameters either way.
   */
  default boolean preparesOnParameters() {
    return false;
  }

  /** {@link #prepare} with a state known only as an {@link OptState}. */
  @SuppressWarnings("unchecked")
  default boolean prepareUnchecked(OptState state, Tensor params, FoldedStep f) {
    return prepare((S) state, params, f);
  }

  /** {@link #commit} with a state known only as an {@link OptState}. */
  @SuppressWarnings("unchecked")
  default void commitUnchecked(OptState state) {
    commit((S) state);
  }
}
