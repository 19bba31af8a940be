package io.github.pathsgd.core.nn;

/**
 * A second, independent implementation of the network in double precision with plain loops: the test oracle. Dropout
 * masks are passed in explicitly ({@code masks[l][b*O+o]} in {0,1} for hidden layer l), so the same masks the float
 * network drew can be replayed.
 */
final class ReferenceMlp {
  final int[] w;
  final double[] p; // same flat layout as DenseChain

  ReferenceMlp(int[] widths, double[] params) {
    this.w = widths;
    this.p = params;
  }

  DenseChain layout() {
    return new DenseChain(w);
  }

  /** Mean cross-entropy of the batch. */
  double loss(double[] x, int[] y, int B, boolean[][] masks, double retain) {
    return forwardBackward(x, y, B, masks, retain, null);
  }

  /** Mean cross-entropy; when {@code grad} is non-null it receives dL/dθ. */
  double forwardBackward(double[] x, int[] y, int B, boolean[][] masks, double retain, double[] grad) {
    DenseChain lay = layout();
    int L = lay.layers();
    double[][] a = new double[L + 1][];
    a[0] = x.clone();
    for (int l = 0; l < L; l++) {
      int I = lay.in(l);
      int O = lay.out(l);
      double[] z = new double[B * O];
      for (int b = 0; b < B; b++) {
        for (int o = 0; o < O; o++) {
          double s = p[lay.biasOffset(l) + o];
          for (int i = 0; i < I; i++) {
            s += a[l][b * I + i] * p[lay.weightOffset(l) + o * I + i];
          }
          if (l < L - 1) {
            s = Math.max(s, 0);
            if (masks != null) {
              s = masks[l][b * O + o] ? s / retain : 0;
            }
          }
          z[b * O + o] = s;
        }
      }
      a[l + 1] = z;
    }
    int C = lay.outputs();
    double loss = 0;
    double[] d = new double[B * C];
    for (int b = 0; b < B; b++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < C; c++) {
        max = Math.max(max, a[L][b * C + c]);
      }
      double s = 0;
      for (int c = 0; c < C; c++) {
        s += Math.exp(a[L][b * C + c] - max);
      }
      double logZ = max + Math.log(s);
      loss += logZ - a[L][b * C + y[b]];
      for (int c = 0; c < C; c++) {
        d[b * C + c] = (Math.exp(a[L][b * C + c] - logZ) - (c == y[b] ? 1 : 0)) / B;
      }
    }
    if (grad != null) {
      for (int l = L - 1; l >= 0; l--) {
        int I = lay.in(l);
        int O = lay.out(l);
        double[] dIn = new double[B * I];
        for (int b = 0; b < B; b++) {
          for (int o = 0; o < O; o++) {
            double g = d[b * O + o];
            grad[lay.biasOffset(l) + o] += g;
            for (int i = 0; i < I; i++) {
              grad[lay.weightOffset(l) + o * I + i] += g * a[l][b * I + i];
              dIn[b * I + i] += g * p[lay.weightOffset(l) + o * I + i];
            }
          }
        }
        if (l > 0) {
          for (int k = 0; k < B * I; k++) {
            // a > 0 iff the unit was active and kept; the kept output was divided by retain
            dIn[k] = a[l][k] > 0 ? dIn[k] * (masks != null ? 1 / retain : 1) : 0;
          }
        }
        d = dIn;
      }
    }
    return loss / B;
  }
}
