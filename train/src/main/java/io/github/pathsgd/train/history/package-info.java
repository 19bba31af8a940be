/** What a run measured: one record per epoch, and the run's outcome. Imports core only. */
package io.github.pathsgd.train.history;
