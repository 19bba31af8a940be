/** Checked, atomic output files ({@link io.github.pathsgd.train.io.OutputTarget}, {@link io.github.pathsgd.train.io.AtomicFiles}). Imports data only. */
package io.github.pathsgd.train.io;
