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
    Workspace ws = new Workspace(layers, params.size());
    compute(ws, params, p, true);
    return ws.kappa;
  }

  /**
   * κ of every parameter into {@code ws.kappa()}, allocation-free: γ_in forward (with |b|^p when {@code
   * includeBiases}), γ_out backward, then each layer's {@link Layer#kappa}.
   */
  public static void compute(Workspace ws, Tensor params, double p, boolean includeBiases) {
    List<Layer> layers = ws.layers;
    sweeps(layers, ws, params, p, includeBiases);
    for (int k = 0, L = layers.size(); k < L; k++) {
      layers.get(k).kappa(params.buffer(), ws.gIn[k], ws.gOut[k + 1], p, ws.kappa);
    }
  }

  /** γ_in forward (with |b|^p when {@code includeBiases}) and γ_out backward into the workspace's maps. */
  private static void sweeps(List<Layer> layers, Workspace ws, Tensor params, double p, boolean includeBiases) {
    int L = layers.size();
    java.util.Arrays.fill(ws.gIn[0], 1.0);
    for (int k = 0; k < L; k++) {
      layers.get(k).gammaForward(params.buffer(), ws.gIn[k], ws.gIn[k + 1], p, includeBiases);
    }
    java.util.Arrays.fill(ws.gOut[L], 1.0);
    for (int k = L - 1; k >= 0; k--) {
      layers.get(k).gammaBackward(params.buffer(), ws.gOut[k + 1], ws.gOut[k], p);
    }
  }

  /** The γ maps of every layer boundary and κ of every parameter, for one network. */
  public static final class Workspace {
    final List<Layer> layers;
    final double[][] gIn;
    final double[][] gOut;
    final double[] kappa;

    /** Buffers for {@code layers} over a parameter vector of {@code size} floats. */
    public Workspace(List<Layer> layers, int size) {
      this.layers = List.copyOf(layers);
      int L = layers.size();
      gIn = new double[L + 1][];
      gOut = new double[L + 1][];
      for (int k = 0; k <= L; k++) {
        int width = k == 0 ? layers.get(0).in() : layers.get(k - 1).out();
        gIn[k] = new double[width];
        gOut[k] = new double[width];
      }
      kappa = new double[size];
    }

    /** κ of every parameter after {@link #compute} (parameters of no layer stay 0). */
    public double[] kappa() {
      return kappa;
    }
  }

  /** A workspace for {@code layers} (its κ vector as long as their parameters), made once, for {@link #into}. */
  public static Workspace workspace(List<Layer> layers) {
    int size = 0;
    for (Layer l : layers) {
      size = Math.max(size, l.paramOffset() + l.paramSize());
    }
    return new Workspace(layers, size);
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
    sweeps(layers, ws, params, p, true);
    for (int k = 0; k < L; k++) {
      layers.get(k).kappa(params.buffer(), ws.gIn[k], ws.gOut[k + 1], p, kappa);
    }
  }
}
