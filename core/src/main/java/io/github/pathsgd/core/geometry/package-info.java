/**
 * The rescaling geometry of ReLU networks (Neyshabur, Salakhutdinov and Srebro, "Path-SGD", NIPS 2015, §2–5; chapter
 * arXiv:1705.03071; docs/paper-spec.md §2): path norms and γ ({@link io.github.pathsgd.core.geometry.PathNorms}), group
 * norms and the six measures a run records ({@link io.github.pathsgd.core.geometry.ModelNorms}), Path-SGD's κ factors
 * ({@link io.github.pathsgd.core.geometry.Kappa}, its p = 2 pass, work splitter and SIMD kernel, with the double
 * reference {@code Kappa.materialize}), node-wise rescaling and the unbalanced initialization of networks ({@link
 * io.github.pathsgd.core.geometry.Rescaling}, {@link io.github.pathsgd.core.geometry.Unbalance}), and functional
 * equivalence. Computed from parameters only; imports {@code nn}, {@code tensor}, {@code util}.
 */
package io.github.pathsgd.core.geometry;
