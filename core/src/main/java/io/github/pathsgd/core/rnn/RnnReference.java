package io.github.pathsgd.core.rnn;

/**
 * The plain double reference of {@link RnnCell}: the same function and its gradient by loops, no BLAS. The oracle of
 * the kernel's tests and of the central-difference gradient checks; also the function the rescaling tests compare.
 */
public final class RnnReference {
  private RnnReference() {}

  /**
   * y (B, O) for inputs x (B, T, I); {@code hs}, when not null, receives h_1..h_T as (T, B, H).
   */
  public static double[] forward(RnnLayout l, int steps, double[] w, double[] x, int batch, double[] hs) {
    int I = l.in();
    int H = l.hidden();
    int O = l.out();
    double[] h = new double[H];
    double[] next = new double[H];
    double[] y = new double[batch * O];
    for (int b = 0; b < batch; b++) {
      java.util.Arrays.fill(h, 0);
      for (int t = 0; t < steps; t++) {
        for (int a = 0; a < H; a++) {
          double s = w[l.b() + a];
          for (int i = 0; i < I; i++) {
            s += w[l.wIn() + a * I + i] * x[(b * steps + t) * I + i];
          }
          for (int c = 0; c < H; c++) {
            s += w[l.wRec() + a * H + c] * h[c];
          }
          next[a] = s > 0 ? s : 0;
        }
        double[] tmp = h;
        h = next;
        next = tmp;
        if (hs != null) {
          System.arraycopy(h, 0, hs, (t * batch + b) * H, H);
        }
      }
      for (int o = 0; o < O; o++) {
        double s = w[l.bOut() + o];
        for (int a = 0; a < H; a++) {
          s += w[l.wOut() + o * H + a] * h[a];
        }
        y[b * O + o] = s;
      }
    }
    return y;
  }

  /** dL/dθ for the loss whose gradient at y = forward(...) is dy (B, O); a new array in the parameter layout. */
  public static double[] backward(RnnLayout l, int steps, double[] w, double[] x, int batch, double[] dy) {
    int I = l.in();
    int H = l.hidden();
    int O = l.out();
    int T = steps;
    double[] hs = new double[T * batch * H];
    forward(l, steps, w, x, batch, hs);
    double[] g = new double[l.size()];
    double[] dh = new double[H];
    double[] dprev = new double[H];
    for (int b = 0; b < batch; b++) {
      int last = ((T - 1) * batch + b) * H;
      java.util.Arrays.fill(dh, 0);
      for (int o = 0; o < O; o++) {
        double d = dy[b * O + o];
        g[l.bOut() + o] += d;
        for (int a = 0; a < H; a++) {
          g[l.wOut() + o * H + a] += d * hs[last + a];
          dh[a] += d * w[l.wOut() + o * H + a];
        }
      }
      for (int t = T - 1; t >= 0; t--) {
        int cur = (t * batch + b) * H;
        int prev = ((t - 1) * batch + b) * H;
        java.util.Arrays.fill(dprev, 0);
        for (int a = 0; a < H; a++) {
          double d = hs[cur + a] > 0 ? dh[a] : 0;
          if (d == 0) {
            continue;
          }
          g[l.b() + a] += d;
          for (int i = 0; i < I; i++) {
            g[l.wIn() + a * I + i] += d * x[(b * T + t) * I + i];
          }
          if (t > 0) {
            for (int c = 0; c < H; c++) {
              g[l.wRec() + a * H + c] += d * hs[prev + c];
              dprev[c] += d * w[l.wRec() + a * H + c];
            }
          }
        }
        double[] tmp = dh;
        dh = dprev;
        dprev = tmp;
      }
    }
    return g;
  }
}
