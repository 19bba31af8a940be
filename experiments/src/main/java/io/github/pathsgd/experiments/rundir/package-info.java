/** One run folder: config.json, metrics.csv (one reader and writer), summary.json, provenance; training a config into it. */
package io.github.pathsgd.experiments.rundir;
