/**
 * The safetensors format's own rules, apart from any naming of a network's tensors: the header (length, UTF-8 JSON,
 * metadata, tensor entries, exact coverage of the data area), the dtypes and their conversion to float32, and the
 * byte layout a writer produces. Nothing here knows a layer or a network ({@code io.github.pathsgd.model} names the
 * tensors).
 */
package io.github.pathsgd.model.format;
