package io.github.pathsgd.core.geometry;

import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.nn.Op;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * The one traversal of the path geometry over a graph of {@link Op}s in topological order, in double: γ_in forward
 * from γ_in(input) = 1 over |θ|^p (biases as edges from a constant-1 unit when asked), γ_out backward from γ_out(output)
 * = 1, each op adding its share into its inputs' γ_out (max for p = ∞: a node read by two ops, as a residual block's
 * input, sums both), and κ of every parameter by each op's own rule with the γ of its ends (κ's formula: {@link
 * Kappa}). {@link PathNorms#phi} (φ_p = (Σ_outputs γ_in)^{1/p}) and {@link LayerKappa} run on it; on a chain every
 * node has one reader, so the sweeps give the bits of the layers' own sweeps (0 + v = v). The ops' sweep scratch
 * ({@link Op#sweepScratch}) lives here, made with the sweep, so a κ workspace that keeps one allocates nothing per
 * step.
 */
public final class PathSweep {
  private final List<Op> ops;
  private final int[][] inputsOf;
  private final double[][] gIn; // per node: [0] the input, [k + 1] op k's output
  private final double[][] gOut;
  private final double[][][] gInsOf; // op k's inputs' γ_in / γ_out arrays (views, made once)
  private final double[][][] gOutsOf;
  private final double[] tmp;
  private final Layer.Scratch[] scratch; // each op's sweep scratch (Op#sweepScratch), made once with the sweep

  /** Buffers for {@code ops} (topological, node 0 the input of width {@code inputs}). */
  public PathSweep(int inputs, List<Op> ops) {
    this.ops = List.copyOf(ops);
    int n = ops.size();
    gIn = new double[n + 1][];
    gOut = new double[n + 1][];
    gIn[0] = new double[inputs];
    gOut[0] = new double[inputs];
    int widest = inputs;
    for (int k = 0; k < n; k++) {
      gIn[k + 1] = new double[ops.get(k).out()];
      gOut[k + 1] = new double[ops.get(k).out()];
      widest = Math.max(widest, ops.get(k).out());
    }
    tmp = new double[widest];
    scratch = new Layer.Scratch[n];
    for (int k = 0; k < n; k++) {
      scratch[k] = ops.get(k).sweepScratch();
    }
    inputsOf = new int[n][];
    gInsOf = new double[n][][];
    gOutsOf = new double[n][][];
    for (int k = 0; k < n; k++) {
      int[] in = ops.get(k).inputs();
      inputsOf[k] = in;
      gInsOf[k] = new double[in.length][];
      gOutsOf[k] = new double[in.length][];
      for (int j = 0; j < in.length; j++) {
        gInsOf[k][j] = gIn[in[j]];
        gOutsOf[k][j] = gOut[in[j]];
      }
    }
  }

  /** γ_in of every node over |θ|^p, from all ones at the input. */
  public void forward(FloatBuffer params, double p, boolean includeBiases) {
    Arrays.fill(gIn[0], 1.0);
    for (int k = 0; k < ops.size(); k++) {
      ops.get(k).gammaForward(params, gInsOf[k], gIn[k + 1], p, includeBiases, scratch[k]);
    }
  }

  /** γ_out of every node over |θ|^p, from all ones at the output; each op adds into its inputs'. */
  public void backward(FloatBuffer params, double p) {
    int n = ops.size();
    Arrays.fill(gOut[n], 1.0);
    for (int m = 0; m < n; m++) {
      Arrays.fill(gOut[m], 0.0);
    }
    for (int k = n - 1; k >= 0; k--) {
      ops.get(k).gammaBackward(params, gOut[k + 1], gOutsOf[k], p, tmp, scratch[k]);
    }
  }

  /** κ of every parameter into {@code kappa} by each op's rule, after {@link #forward} and {@link #backward}. */
  public void kappa(FloatBuffer params, double p, double[] kappa) {
    for (int k = 0; k < ops.size(); k++) {
      ops.get(k).kappa(params, gInsOf[k], gOut[k + 1], p, kappa, scratch[k]);
    }
  }

  /** γ_in of node {@code n} after {@link #forward} (not a copy). */
  public double[] gammaIn(int n) {
    return gIn[n];
  }

  /** γ_out of node {@code n} after {@link #backward} (not a copy). */
  public double[] gammaOut(int n) {
    return gOut[n];
  }

  /** γ_in of the output node after {@link #forward} (not a copy). */
  public double[] outputGammaIn() {
    return gIn[ops.size()];
  }
}
