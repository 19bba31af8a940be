/**
 * Model files: a network's tensors in the safetensors format under pathsgd's names ({@link
 * io.github.pathsgd.model.SafeTensors}); the format's rules are {@link io.github.pathsgd.model.format}'s. A program
 * that saves or reads a model needs this module, not the sweep module ({@code experiments}).
 */
package io.github.pathsgd.model;
