/** Sweeps of a preset into a folder: plan, shards and jobs, locks, resume, combined files and step-size selection. */
package io.github.pathsgd.experiments.sweep;
