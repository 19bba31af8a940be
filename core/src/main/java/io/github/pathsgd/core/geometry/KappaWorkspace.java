package io.github.pathsgd.core.geometry;

import io.github.pathsgd.core.nn.DenseChain;

/**
 * The preallocated working memory of {@link Kappa} for one {@link DenseChain}: the γ of every layer, the κ factors in
 * double and as float mantissas and exponents, their inverses and per-layer ranges, and the per-thread and per-chunk
 * rows of the p = 2 pass ({@link KappaPass}). Transient: never exported, restored or rescaled.
 */
public final class KappaWorkspace {
  final DenseChain layout;
  final double[][] gin; // gin[i], i = 0..L-1: γ_in of width index i
  final double[][] gout; // gout[i], i = 1..L: γ_out of width index i (gout[0] unused)
  final float[] row;
  java.nio.ByteBuffer wBytes; // the parameters' bytes, for the SIMD kernel (set by computeKappa)
  final float[][] rowT; // per thread slot: one row of weights (scalar kernel)
  final double[][] accC; // per row chunk: the chunk's γ_out accumulator over the layer's inputs
  final double[] colD; // 1/κ_in of one layer
  final double[] kin; // κ_in as stored (Σ_{l<L} n_l: layer l at Kappa.inOffset)
  final double[] kout; // κ_out as stored (Σ_{l<L} n_{l+1}: layer l at Kappa.outOffset)
  final float[] mIn; // mantissas and exponents of κ_in, κ_out on their way to and from the state
  final float[] eIn;
  final float[] mOut;
  final float[] eOut;
  final double[] stat = new double[2];
  final double[] kinInv; // 1/κ_in
  final double[] koutInv; // 1/κ_out
  final double[] kinMin; // per layer: the least κ_in of its inputs (kinMax: the largest)
  final double[] kinMax;
  final double[] koutMin; // per layer: the least κ_out of its outputs (koutMax: the largest)
  final double[] koutMax;
  final boolean[] regular; // per layer: no floor needed, every factor representable (Kappa.regular)
  int doubleLayers; // layers whose p = 2 pass ran the scalar double reference (Sweep.DOUBLE) at the last recomputation

  KappaWorkspace(DenseChain layout) {
    this.layout = layout;
    int L = layout.layers();
    gin = new double[L][];
    gout = new double[L + 1][];
    int maxIn = 1;
    for (int i = 0; i <= L; i++) {
      if (i < L) {
        gin[i] = new double[layout.width(i)];
        maxIn = Math.max(maxIn, layout.width(i));
      }
      if (i > 0) {
        gout[i] = new double[layout.width(i)];
      }
    }
    row = new float[maxIn];
    int slots = KappaPass.maxThreads();
    rowT = new float[slots][maxIn];
    accC = new double[KappaPass.MAX_CHUNKS][maxIn];
    colD = new double[maxIn];
    kin = new double[Kappa.inOffset(layout, L)];
    kout = new double[Kappa.outOffset(layout, L)];
    kinInv = new double[kin.length];
    mIn = new float[kin.length];
    eIn = new float[kin.length];
    mOut = new float[kout.length];
    eOut = new float[kout.length];
    koutInv = new double[kout.length];
    kinMin = new double[L];
    kinMax = new double[L];
    koutMin = new double[L];
    koutMax = new double[L];
    regular = new boolean[L];
    java.util.Arrays.fill(kin, 0, layout.width(0), 1.0);
    java.util.Arrays.fill(kinInv, 0, layout.width(0), 1.0);
    kinMin[0] = 1.0;
    kinMax[0] = 1.0;
  }

  public DenseChain layout() {
    return layout;
  }

  /**
   * Layers whose p = 2 pass ran the scalar double reference at the last recomputation: every such layer with {@link
   * io.github.pathsgd.core.optim.PathSgdOptions.Sweep#DOUBLE}, none with the default sweep (whose pass is in double
   * too, with SIMD).
   */
  public int doubleLayers() {
    return doubleLayers;
  }

  /** The mantissas of κ_in as last computed (to be stored); see {@link Kappa#compute}. */
  public float[] mantissasIn() {
    return mIn;
  }

  public float[] exponentsIn() {
    return eIn;
  }

  public float[] mantissasOut() {
    return mOut;
  }

  public float[] exponentsOut() {
    return eOut;
  }
}
