package io.github.pathsgd.core.rnn;

import java.util.ArrayList;
import java.util.List;

/**
 * Brute force over every path of an RNN unrolled over T steps: each path is the list of the parameter indices of its
 * edges, in order (an index appears k times when the path uses that shared weight k times). The oracle of
 * RnnGeometryTest.
 */
final class RnnPaths {
  private RnnPaths() {}

  static List<int[]> enumerate(RnnLayout l, int steps) {
    List<int[]> paths = new ArrayList<>();
    int H = l.hidden();
    for (int o = 0; o < l.out(); o++) {
      paths.add(new int[] {l.bOut() + o});
    }
    for (int s = 0; s < steps; s++) {
      for (int j = 0; j < H; j++) {
        for (int src = 0; src <= l.in(); src++) { // src = in: the bias b_j
          int first = src < l.in() ? l.wIn() + j * l.in() + src : l.b() + j;
          List<Integer> prefix = new ArrayList<>(List.of(first));
          extend(l, steps, s, j, prefix, paths);
        }
      }
    }
    return paths;
  }

  private static void extend(RnnLayout l, int steps, int t, int j, List<Integer> prefix, List<int[]> paths) {
    int H = l.hidden();
    if (t == steps - 1) {
      for (int o = 0; o < l.out(); o++) {
        int[] p = new int[prefix.size() + 1];
        for (int i = 0; i < prefix.size(); i++) {
          p[i] = prefix.get(i);
        }
        p[prefix.size()] = l.wOut() + o * H + j;
        paths.add(p);
      }
      return;
    }
    for (int a = 0; a < H; a++) {
      prefix.add(l.wRec() + a * H + j);
      extend(l, steps, t + 1, a, prefix, paths);
      prefix.remove(prefix.size() - 1);
    }
  }

  static double pow(double x, double p) {
    return Math.pow(Math.abs(x), p);
  }

  /** φ_p = (Σ_P |π_P|^p)^{1/p}. */
  static double phi(List<int[]> paths, double[] w, double p) {
    double s = 0;
    for (int[] path : paths) {
      double v = 1;
      for (int e : path) {
        v *= pow(w[e], p);
      }
      s += v;
    }
    return Math.pow(s, 1 / p);
  }

  /**
   * Σ_P f(k_P)·|∂-free rest|^p for coordinate i, where k_P is the number of uses of i on P and the rest is the product
   * of |w|^p over P with one use of i left out: {@code power = false} gives S^(1) (f(k) = k), {@code true} the whole
   * sum (f(k) = k^p).
   */
  static double sum(List<int[]> paths, double[] w, double p, int i, boolean power) {
    double s = 0;
    for (int[] path : paths) {
      int k = 0;
      double rest = 1;
      for (int e : path) {
        if (e == i && k++ == 0) {
          continue;
        }
        rest *= pow(w[e], p);
      }
      if (k > 0) {
        s += (power ? Math.pow(k, p) : k) * rest;
      }
    }
    return s;
  }

  /** The finite-difference definition ‖π(w + δe_i) − π(w)‖_p² / δ², path by path. */
  static double finiteDifference(List<int[]> paths, double[] w, double p, int i, double delta) {
    double s = 0;
    for (int[] path : paths) {
      double a = 1;
      double b = 1;
      boolean uses = false;
      for (int e : path) {
        a *= e == i ? w[e] + delta : w[e];
        b *= w[e];
        uses |= e == i;
      }
      if (uses) {
        s += pow(a - b, p);
      }
    }
    return Math.pow(s, 2 / p) / (delta * delta);
  }
}
