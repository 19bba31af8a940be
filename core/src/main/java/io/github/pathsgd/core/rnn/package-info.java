/**
 * A single-layer ReLU recurrent network and its Path-SGD geometry (Neyshabur, Wu, Salakhutdinov and Srebro,
 * "Path-Normalized Optimization of Recurrent Neural Networks with ReLU Activations", NIPS 2016, arXiv:1605.07154;
 * docs/rnn.md): the cell's flat parameter layout ({@link io.github.pathsgd.core.rnn.RnnLayout}), its float kernel on
 * OpenBLAS GEMMs ({@link io.github.pathsgd.core.rnn.RnnCell}) and plain double reference ({@link
 * io.github.pathsgd.core.rnn.RnnReference}), inits ({@link io.github.pathsgd.core.rnn.RnnInit}), gradient clipping
 * ({@link io.github.pathsgd.core.rnn.GradClip}), the path norm φ_p and κ = κ^(1) + κ^(2) of weights shared across time
 * ({@link io.github.pathsgd.core.rnn.RnnGeometry}, {@link io.github.pathsgd.core.rnn.RnnKappa}) and a Path-SGD step
 * on them ({@link io.github.pathsgd.core.rnn.RnnPathSgd}). Self-contained: imports only {@code tensor} and {@code
 * util}, so it can become one op of the graph of ops.
 */
package io.github.pathsgd.core.rnn;
