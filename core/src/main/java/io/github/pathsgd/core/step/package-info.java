/**
 * The training step: {@link io.github.pathsgd.core.step.TrainStep} owns the workspace, the optimizer state, the
 * gradient buffer and the fold scratch, and folds the update into the weight-gradient GEMMs when the optimizer's
 * transform is {@link io.github.pathsgd.core.optim.Foldable}. The top of core; imports every package below it.
 */
package io.github.pathsgd.core.step;
