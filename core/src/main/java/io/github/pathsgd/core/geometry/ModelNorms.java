package io.github.pathsgd.core.geometry;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.nn.ParamSlice;
import io.github.pathsgd.core.tensor.SpectralNorm;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * The six capacity measures the chapter compares as candidates for what tracks generalization (chapter
 * arXiv:1705.03071, §2 and its discussion of norm-based capacity; Neyshabur, Tomioka and Srebro, COLT 2015), of one
 * network, computed by the one implementation of each ({@link PathNorms}, {@link GroupNorms}, {@link SpectralNorm}):
 *
 * <pre>
 *   path_norm_1, path_norm_2, path_norm_inf  φ_1, φ_2, φ_∞                    (biases as edges from a constant-1 unit)
 *   l2_norm                                 μ_{2,2} = ( Σ_v Σ_{u→v} w_{u→v}² )^{1/2}   (biases included)
 *   max_unit_norm                           μ_{2,∞} = max_v ( Σ_{u→v} w_{u→v}² )^{1/2}  (biases included)
 *   spectral_norm_product                   Π_l ‖W_l‖₂                          (weight matrices only; a
 *                                           convolution's operator norm on its input size)
 * </pre>
 *
 * <p>Biases count as the incoming edge of a unit from the constant-1 unit in the path and group norms, as {@code
 * pathsgd norms} counts them by default; the spectral norms are of the weight matrices W_l alone (a bias is not a
 * linear map). The names are the metric names of a run's {@code metrics.csv} (split {@code model}).
 *
 * @param pathNorm1 φ_1
 * @param pathNorm2 φ_2
 * @param pathNormInf φ_∞
 * @param l2Norm μ_{2,2}
 * @param maxUnitNorm μ_{2,∞}
 * @param spectralNormProduct Π_l σ_max(W_l)
 */
public record ModelNorms(double pathNorm1, double pathNorm2, double pathNormInf, double l2Norm, double maxUnitNorm,
    double spectralNormProduct) {
  /** The metric names, in the order of {@link #values()}. */
  public static final List<String> NAMES = List.of("path_norm_1", "path_norm_2", "path_norm_inf", "l2_norm",
      "max_unit_norm", "spectral_norm_product");

  /** The six norms of a fully connected network ({@link LayerNet#chain()}): the rank-one sweeps of the chain. */
  private static ModelNorms ofChain(LayerNet net) {
    DenseChain lay = net.chain();
    double spectral = 1;
    for (int l = 0; l < lay.layers(); l++) {
      spectral *= GroupNorms.spectral(net, l);
    }
    return new ModelNorms(PathNorms.phi(net, 1, true), PathNorms.phi(net, 2, true),
        PathNorms.phi(net, Double.POSITIVE_INFINITY, true), GroupNorms.l2(net, true), GroupNorms.maxNorm(net, true),
        spectral);
  }

  /**
   * The six norms of any network: for a fully connected one ({@link
   * io.github.pathsgd.core.nn.NetLayout#denseChain()}) by the chain's rank-one
   * sweeps ({@link PathNorms#phi(LayerNet, double)}, {@link GroupNorms}); for a network of layers, φ_p through the
   * layers' sweeps ({@link PathNorms}, tied edges unrolled), and the group norms and spectral norms over each
   * parameterized layer's weight matrix [out, in·kh·kw] (a convolution's filters as rows, each filter and its bias
   * counted once, not once per position): μ_{2,∞} is then the largest filter norm. The spectral norm of a convolution
   * is its operator norm on the layer's input size (stride and padding included, {@link Layer#spectralNorm}), not the norm
   * of the reshaped filter matrix; it depends on that input size.
   */
  public static ModelNorms of(Network net) {
    DenseChain chain = net.layout().denseChain(); // a chain of dense layers: the rank-one sweeps of PathNorms
    if (chain != null) {
      return ofChain(LayerNet.dense(chain, net.params())); // a view of the same parameters
    }
    FloatBuffer w = net.params().buffer();
    double sq = 0;
    double maxUnit = 0;
    double spectral = 1;
    for (Layer l : net.layers()) {
      if (l.paramSize() == 0) {
        continue;
      }
      // groups: the weights [rows, fan-in] of the same rows, then their bias (a dense or conv layer: one weight; a
      // recurrent layer: W_in and W_rec, whose row j is unit j's incoming weights)
      List<ParamSlice> slices = l.paramSlices();
      for (int from = 0, s = 0; s < slices.size(); s++) {
        if (slices.get(s).fanIn() != 0) {
          continue;
        }
        int bias = slices.get(s).offset();
        int rows = slices.get(s).rows();
        for (int r = 0; r < rows; r++) {
          double b = w.get(bias + r);
          double unit = b * b;
          for (int g = from; g < s; g++) {
            ParamSlice weight = slices.get(g);
            int cols = weight.fanIn();
            for (int i = 0; i < cols; i++) {
              double x = w.get(weight.offset() + r * cols + i);
              unit += x * x;
            }
          }
          sq += unit;
          maxUnit = Math.max(maxUnit, unit);
        }
        from = s + 1;
      }
      spectral *= spectral(l, w);
    }
    var layers = net.layers();
    return new ModelNorms(PathNorms.phi(layers, net.params(), 1, true), PathNorms.phi(layers, net.params(), 2, true),
        PathNorms.phi(layers, net.params(), Double.POSITIVE_INFINITY, true), Math.sqrt(sq), Math.sqrt(maxUnit),
        spectral);
  }

  /**
   * ‖W‖₂ of one parameterized layer of a {@link io.github.pathsgd.core.nn.LayerNet} (its parameters in {@code params}): for a convolution its
   * operator norm on the layer's input size ({@link Layer#spectralNorm}), else the largest singular value of its [out, in]
   * weight matrix; biases left out.
   */
  public static double spectral(Layer l, FloatBuffer params) {
    return l.spectralNorm(params);
  }

  /** The values in the order of {@link #NAMES}. */
  public double[] values() {
    return new double[] {pathNorm1, pathNorm2, pathNormInf, l2Norm, maxUnitNorm, spectralNormProduct};
  }

  /** The record from values in the order of {@link #NAMES}. */
  public static ModelNorms ofValues(double[] v) {
    if (v.length != NAMES.size()) {
      throw new IllegalArgumentException("expected " + NAMES.size() + " norms, got " + v.length);
    }
    return new ModelNorms(v[0], v[1], v[2], v[3], v[4], v[5]);
  }
}
