/**
 * ReLU networks as sequences of {@link io.github.pathsgd.core.nn.Layer}s ({@link io.github.pathsgd.core.nn.Dense}
 * first) over one flat parameter vector ({@link io.github.pathsgd.core.nn.NetLayout}), in the llm.c style: per-layer
 * forward/backward kernels with shape comments ({@link io.github.pathsgd.core.nn.Layers}), the softmax cross-entropy,
 * dropout, initialization, and the folded training step ({@link io.github.pathsgd.core.nn.LayerNet#fusedStep} with a
 * {@link io.github.pathsgd.core.nn.FoldedStep}; rank-one row/column scaling in {@link io.github.pathsgd.core.nn.RankOne}).
 * The layers also provide the path sweeps of Path-SGD (Neyshabur, Salakhutdinov and Srebro, NIPS 2015, §3–4).
 * {@link io.github.pathsgd.core.nn.Network} is what training needs of a network, implemented by {@link
 * io.github.pathsgd.core.nn.LayerNet} (any sequence of layers: {@link io.github.pathsgd.core.nn.Conv2d}, pooling, dense,
 * residual blocks; built from a {@link io.github.pathsgd.core.nn.LayerSpec}, or fully connected by {@link
 * io.github.pathsgd.core.nn.LayerNet#dense}, which takes the folded fast path of a {@link
 * io.github.pathsgd.core.nn.DenseChain}); optimizer states follow its {@link io.github.pathsgd.core.nn.NetLayout}. Imports
 * {@code tensor} and {@code util}; knows no optimizer.
 */
package io.github.pathsgd.core.nn;
