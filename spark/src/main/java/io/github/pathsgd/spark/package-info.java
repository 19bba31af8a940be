/**
 * Sweeps on Apache Spark (the {@code pathsgd-spark} application jar): the driver plans each phase with {@code
 * experiments.sweep.SweepTasks}, runs one Spark task per unfinished run and writes every file of the output folder
 * itself. Spark is a provided dependency; nothing else in pathsgd depends on this package.
 */
package io.github.pathsgd.spark;
