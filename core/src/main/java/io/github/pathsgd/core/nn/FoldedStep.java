package io.github.pathsgd.core.nn;

/**
 * What a folded ("fused") update is, with no optimizer types: per layer l,
 *
 * <pre>
 *   W_l ← W_l + α · diag(r_l) · dZ_lᵀ · X_l · diag(c_l),     b_l ← b_l + α · diag(r_l) · Σ_b dZ_l[b, :]
 * </pre>
 *
 * the update u_l = α · diag(r_l) · g_l · diag(c_l) folded into the weight-gradient GEMM ({@link LayerNet#fusedStep}). α
 * starts at 1 and the row and column scales r_l, c_l at "none" (all ones); a transform that can be folded multiplies
 * α ({@link #scale}) or fills the scales ({@link #rowScale}, {@link #colScale}, then {@link #markScaled}). The arrays
 * are allocated once, for one {@link DenseChain}; {@link #reset} makes the step the identity again.
 */
public final class FoldedStep {
  private final DenseChain layout;
  private final double[][] rows; // rows[l]: r_l, length out(l)
  private final double[][] cols; // cols[l]: c_l, length in(l)
  private float alpha = 1f;
  private boolean scaled;

  public FoldedStep(DenseChain layout) {
    this.layout = layout;
    int L = layout.layers();
    rows = new double[L][];
    cols = new double[L][];
    for (int l = 0; l < L; l++) {
      rows[l] = new double[layout.out(l)];
      cols[l] = new double[layout.in(l)];
    }
  }

  public DenseChain layout() {
    return layout;
  }

  /** α ← 1, no row or column scales. */
  public void reset() {
    alpha = 1f;
    scaled = false;
  }

  /** α ← α · (float) s. */
  public void scale(double s) {
    alpha *= (float) s;
  }

  /** r_l, to be filled (length out(l)); takes effect with {@link #markScaled}. */
  public double[] rowScale(int l) {
    return rows[l];
  }

  /** c_l, to be filled (length in(l)); takes effect with {@link #markScaled}. */
  public double[] colScale(int l) {
    return cols[l];
  }

  /**
   * The row and column scales are set. The scaled errors and inputs are formed in double and rounded once ({@link
   * RankOne#scaleRowsBy}), so that two networks that differ by a power-of-two rescaling take bit-identical steps
   * whatever the range of their factors.
   */
  public void markScaled() {
    scaled = true;
  }

  public float alpha() {
    return alpha;
  }

  public boolean scaled() {
    return scaled;
  }

  double[][] rows() {
    return scaled ? rows : null;
  }

  double[][] cols() {
    return scaled ? cols : null;
  }
}
