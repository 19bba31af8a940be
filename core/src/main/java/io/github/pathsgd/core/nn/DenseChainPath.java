package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.tensor.Tensor;

/**
 * The fast path of a {@link LayerNet} whose layers are a {@link DenseChain} (fully connected, ReLU between, linear
 * outputs): the backward pass with the update folded into the weight-gradient GEMMs, allocation-free, on the
 * activations the network's forward pass left in its {@link Network.Workspace} and the scratch the workspace holds for
 * it. The forward pass, the plain backward and the evaluation of such a network are its graph's: the same {@link
 * Dense} kernels in the same order.
 */
final class DenseChainPath {
  private final DenseChain chain;

  DenseChainPath(DenseChain chain) {
    this.chain = chain;
  }

  /**
   * One training step's backward pass with the update folded into the weight-gradient GEMMs (no gradient buffer):
   *
   * <pre>
   * W_l ← W_l − lr · diag(r_l) · dZ_lᵀ · X_l · diag(c_l)      (sgemm with alpha = −lr, beta = 1)
   * b_l ← b_l − lr · diag(r_l) · Σ_b dZ_l[b, :]
   * </pre>
   *
   * where dZ_l (B, out) is the back-propagated error of layer l and X_l (B, in) its input. Without row and column
   * scales this is plain SGD; with r_l = 1/κ_out and c_l = 1/κ_in it is Path-SGD (κ of layer l's weights is the
   * rank-one outer product κ_out κ_inᵀ, so the division is a row and a column scale). The input gradient of each layer
   * is computed before its weights change, so the result equals the plain gradient followed by the update, up to float
   * rounding.
   *
   * <p>The scales are doubles: a rescaled network's 1/κ factors can lie outside the float range (1/κ_out of a unit
   * rescaled by c grows as c²), while the scaled errors r_l ⊙ dZ_l and inputs X_l ⊙ c_l, and the update, are of the
   * size of the network's own numbers; they are formed in double and rounded once ({@link RankOne#scaleRowsBy}), the
   * same rule whatever the range, so that two networks that differ by a power-of-two rescaling take bit-identical
   * steps.
   */
  StepStats fusedBackward(Network.Workspace ws, Tensor params, int B, int[] labels, int yOff, Dropout dropout,
      FoldedStep f) {
    float lr = -f.alpha();
    double[][] rowScale = f.rows();
    double[][] colScale = f.cols();
    int L = chain.layers();
    Layers.softmaxCrossEntropy(ws.acts[L], labels, yOff, B, chain.outputs(), ws.deltas[L], ws.lossOut);
    double loss = ws.lossOut[0] / B;
    int errors = (int) ws.lossOut[1];
    if (!Double.isFinite(loss)) {
      return new StepStats(loss, errors);
    }
    for (int l = L - 1; l >= 0; l--) {
      int I = chain.in(l);
      int O = chain.out(l);
      Tensor dz = ws.deltas[l + 1];
      if (l > 0) {
        // dX = dZ · W with the weights before this step's update
        Blas.sgemm(false, false, B, I, O, 1f, dz, 0, O, params, chain.weightOffset(l), I, 0f, ws.deltas[l], 0, I);
      }
      // the loops are small methods of Layers: each compiles on its own, hot from the first steps
      if (rowScale != null) {
        RankOne.scaleRowsBy(dz, B, O, rowScale[l], dz, ws.blockTmp());
      }
      Layers.biasSgdStep(params, chain.biasOffset(l), dz, B, O, lr, ws.biasSum);
      Tensor x = ws.acts[l];
      // skipped where every factor is 1, as for the inputs of layer 0 (κ_in of an input unit is γ_in^{2/p} = 1)
      if (colScale != null && !RankOne.allOnes(colScale[l], I)) {
        RankOne.scaleRowsBy(x, B, I, colScale[l], ws.scratch, ws.blockTmp());
        x = ws.scratch;
      }
      Blas.sgemm(true, false, O, I, B, -lr, dz, 0, O, x, 0, I, 1f, params, chain.weightOffset(l), I);
      if (l > 0) {
        float retain = dropout.active() ? dropout.hiddenRetain() : 1f;
        Layers.reluDropoutBackward(ws.deltas[l], ws.acts[l], B, I, retain);
      }
    }
    return new StepStats(loss, errors);
  }
}
