package io.github.pathsgd.core.geometry;

import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.tensor.Tensor;
import java.util.List;

/**
 * Path-SGD's κ for every parameter of any sequence of {@link Layer}s, in double, through the layers' own path sweeps:
 * γ_in forward from γ_in(input) = 1 over |θ|^p (biases included), γ_out backward from γ_out(output) = 1, then each
 * layer's {@link Layer#kappa} (for a shared weight, κ(w) = (Σ over its tied edges of γ_in·γ_out)^{2/p}: Neyshabur, Wu,
 * Salakhutdinov and Srebro, NIPS 2016; Path-SGD, NIPS 2015, §4). This is the reference computation for networks with
 * convolutions and pooling; {@link Kappa} is the fast one for fully connected networks.
 */
public final class LayerKappa {
  private LayerKappa() {}

  /** κ of every parameter (indexed like {@code params}; parameters of no layer stay 0). */
  public static double[] of(List<Layer> layers, Tensor params, double p) {
    int L = layers.size();
    double[][] gIn = new double[L + 1][];
    gIn[0] = new double[layers.get(0).in()];
    java.util.Arrays.fill(gIn[0], 1.0);
    for (int k = 0; k < L; k++) {
      gIn[k + 1] = new double[layers.get(k).out()];
      layers.get(k).gammaForward(params.buffer(), gIn[k], gIn[k + 1], p, true);
    }
    double[][] gOut = new double[L + 1][];
    gOut[L] = new double[layers.get(L - 1).out()];
    java.util.Arrays.fill(gOut[L], 1.0);
    for (int k = L - 1; k >= 0; k--) {
      gOut[k] = new double[layers.get(k).in()];
      layers.get(k).gammaBackward(params.buffer(), gOut[k + 1], gOut[k], p);
    }
    double[] kappa = new double[params.size()];
    for (int k = 0; k < L; k++) {
      layers.get(k).kappa(gIn[k], gOut[k + 1], p, kappa);
    }
    return kappa;
  }

  /** φ_p(θ)^p of the network: Σ over outputs of γ_in (p finite). */
  public static double phiPow(List<Layer> layers, Tensor params, double p) {
    double[] g = new double[layers.get(0).in()];
    java.util.Arrays.fill(g, 1.0);
    for (Layer l : layers) {
      double[] next = new double[l.out()];
      l.gammaForward(params.buffer(), g, next, p, true);
      g = next;
    }
    double s = 0;
    for (double v : g) {
      s += v;
    }
    return s;
  }
}
