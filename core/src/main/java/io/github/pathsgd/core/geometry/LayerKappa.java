package io.github.pathsgd.core.geometry;

import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.tensor.Tensor;
import java.util.List;

/**
 * Path-SGD's κ for every parameter of any sequence of {@link Layer}s, in double, through the layers' own path sweeps:
 * γ_in forward from γ_in(input) = 1 over |θ|^p (biases included), γ_out backward from γ_out(output) = 1, then each
 * layer's {@link Layer#kappa} (for a shared weight, κ(w) = (Σ over its tied edges of γ_in·γ_out)^{2/p}: Neyshabur, Wu,
 * Salakhutdinov and Srebro, NIPS 2016; Path-SGD, NIPS 2015, §4). This is the reference computation for networks with
 * convolutions and pooling; {@link Kappa} is the fast one for fully connected networks. A convolution's sweeps and κ are
 * double GEMMs (OpenBLAS, with its threads) on the im2col of the γ maps.
 */
public final class LayerKappa {
  private LayerKappa() {}

  /** κ of every parameter (indexed like {@code params}; parameters of no layer stay 0). */
  public static double[] of(List<Layer> layers, Tensor params, double p) {
    double[] kappa = new double[params.size()];
    into(layers, params, p, workspace(layers), kappa);
    return kappa;
  }

  /** The γ maps of {@code layers}, made once, for {@link #into}. */
  public static Workspace workspace(List<Layer> layers) {
    return new Workspace(layers);
  }

  /**
   * {@link #of} into {@code kappa} (at least {@code params.size()} long; entries of no layer are left as they are),
   * with the γ maps of {@code ws}: allocation-free, for the Path-SGD step.
   */
  public static void into(List<Layer> layers, Tensor params, double p, Workspace ws, double[] kappa) {
    int L = layers.size();
    if (ws.gIn.length != L + 1) {
      throw new IllegalArgumentException("LayerKappa: a workspace of " + (ws.gIn.length - 1) + " layers for " + L);
    }
    forwardSweep(layers, params, p, ws);
    backwardSweep(layers, params, p, ws);
    for (int k = 0; k < L; k++) {
      layers.get(k).kappa(ws.gIn[k], ws.gOut[k + 1], p, kappa);
    }
  }

  private static void forwardSweep(List<Layer> layers, Tensor params, double p, Workspace ws) {
    java.util.Arrays.fill(ws.gIn[0], 1.0);
    for (int k = 0; k < layers.size(); k++) {
      layers.get(k).gammaForward(params.buffer(), ws.gIn[k], ws.gIn[k + 1], p, true);
    }
  }

  private static void backwardSweep(List<Layer> layers, Tensor params, double p, Workspace ws) {
    int L = layers.size();
    java.util.Arrays.fill(ws.gOut[L], 1.0);
    for (int k = L - 1; k >= 0; k--) {
      layers.get(k).gammaBackward(params.buffer(), ws.gOut[k + 1], ws.gOut[k], p);
    }
  }

  /** The γ_in and γ_out maps of every width index of a network (a batch of one), in double. */
  public static final class Workspace {
    final double[][] gIn;
    final double[][] gOut;

    Workspace(List<Layer> layers) {
      int L = layers.size();
      gIn = new double[L + 1][];
      gOut = new double[L + 1][];
      for (int k = 0; k <= L; k++) {
        int width = k == 0 ? layers.get(0).in() : layers.get(k - 1).out();
        gIn[k] = new double[width];
        gOut[k] = new double[width];
      }
    }
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
