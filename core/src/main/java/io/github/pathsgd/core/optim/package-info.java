/**
 * Optimizers as optax-style gradient transforms with typed state (Babuschkin et al., "The DeepMind JAX Ecosystem",
 * 2020): {@link io.github.pathsgd.core.optim.GradientTransform}, {@link io.github.pathsgd.core.optim.OptState} (each
 * state exports its checkpoint entries and rescales itself under ρ_{c,v}, {@link
 * io.github.pathsgd.core.optim.UnitRescaling}), {@link io.github.pathsgd.core.optim.Chain}, the elementary {@link
 * io.github.pathsgd.core.optim.Transforms}, Path-SGD's normalization {@link io.github.pathsgd.core.optim.PathNormalize}
 * (NIPS 2015, Algorithm 1), the {@link io.github.pathsgd.core.optim.Foldable} capability and the factories of {@link
 * io.github.pathsgd.core.optim.Optimizers}. Imports {@code geometry}, {@code nn}, {@code tensor}, {@code util}.
 */
package io.github.pathsgd.core.optim;
