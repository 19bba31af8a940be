/** End-of-epoch checkpoints: the binary format, its checking reader and the resume checks. Imports history and io. */
package io.github.pathsgd.train.checkpoint;
