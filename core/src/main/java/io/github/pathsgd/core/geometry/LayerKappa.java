package io.github.pathsgd.core.geometry;

import io.github.pathsgd.core.nn.Graph;
import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.tensor.Tensor;
import java.util.List;

/**
 * Path-SGD's κ for every parameter of any sequence of {@link Layer}s, in double, by the one traversal of {@link
 * PathSweep} over the layers as ops ({@link Graph#expand}: a residual block as its branch, an add and a ReLU): γ_in
 * forward from γ_in(input) = 1 over |θ|^p (biases included), γ_out backward from γ_out(output) = 1, then each op's κ
 * (the formula, and its sum over tied edges for a shared weight, is {@link Kappa}'s). This is the reference computation for networks with
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
   * includeBiases}), γ_out backward, then each op's κ, by the one traversal ({@link PathSweep}).
   */
  public static void compute(Workspace ws, Tensor params, double p, boolean includeBiases) {
    ws.sweep.forward(params.buffer(), p, includeBiases);
    ws.sweep.backward(params.buffer(), p);
    ws.sweep.kappa(params.buffer(), p, ws.kappa);
  }

  /** The path sweep of every layer boundary and κ of every parameter, for one network. */
  public static final class Workspace {
    final int layers;
    final PathSweep sweep;
    final double[] kappa;

    /** Buffers for {@code layers} over a parameter vector of {@code size} floats. */
    public Workspace(List<Layer> layers, int size) {
      this.layers = layers.size();
      this.sweep = new PathSweep(layers.get(0).in(), Graph.expand(layers));
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
    if (ws.layers != L) {
      throw new IllegalArgumentException("LayerKappa: a workspace of " + ws.layers + " layers for " + L);
    }
    ws.sweep.forward(params.buffer(), p, true);
    ws.sweep.backward(params.buffer(), p);
    ws.sweep.kappa(params.buffer(), p, kappa);
  }
}
