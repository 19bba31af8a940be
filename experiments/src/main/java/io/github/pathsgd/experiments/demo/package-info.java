/**
 * The chapter's toy rescaling demonstration (arXiv:1705.03071, Figure 1; docs/paper-spec.md E2(b)): a chain network
 * trained with SGD and Path-SGD from a balanced and a rescaled start, to show that only Path-SGD's trajectory is
 * unchanged by the rescaling. Imports core only.
 */
package io.github.pathsgd.experiments.demo;
