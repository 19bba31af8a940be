package io.github.pathsgd.core.nn;

/**
 * What one pass of a {@link Network} reports: a loss (the mean over the batch for a training step, the sum for {@link
 * Network#evaluate}) and the number of misclassified rows.
 */
public record StepStats(double loss, int errors) {}
