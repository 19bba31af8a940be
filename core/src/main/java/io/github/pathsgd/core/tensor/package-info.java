/**
 * Flat float32 tensors on direct buffers and the OpenBLAS calls on them (sgemm, saxpy, thread count). Imports only
 * {@code core.util}; everything above computes on these buffers.
 */
package io.github.pathsgd.core.tensor;
