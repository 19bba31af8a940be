/**
 * The {@code pathsgd} command line (picocli): {@code train}, {@code experiments}, {@code report}, {@code plot},
 * {@code norms}, {@code rescale}, {@code demo}, {@code data} and {@code bench}. Commands parse and check their options,
 * then call the library: {@code experiments.rundir.RunDirectory} to train a config into a folder, the sweep runner,
 * the report and the benchmarks. The top of the layering: may import every module, none imports it.
 */
package io.github.pathsgd.cli;
