/** Model files in the safetensors format (their header is JSON, hence here and not in the train module). */
package io.github.pathsgd.experiments.io;
