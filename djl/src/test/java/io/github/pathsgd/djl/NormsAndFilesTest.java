package io.github.pathsgd.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.training.Trainer;
import io.github.pathsgd.core.geometry.ModelNorms;
import io.github.pathsgd.core.geometry.PathNorms;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.model.SafeTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Path norms of a DJL model: equal to a brute-force sum over every path of the DJL arrays themselves, and to what
 * {@code pathsgd norms} computes from the exported safetensors file (the same reader and {@link PathNorms} calls);
 * the file reads back into a DJL model bit for bit; the norms listener records the norms each epoch.
 */
class NormsAndFilesTest {
  @TempDir Path tmp;

  @Test
  void pathNormsEqualABruteForceSumOverEveryPath() {
    try (Model m = Model.newInstance("n"); Trainer t = Fixtures.trainer(m, Fixtures.mlp(), Fixtures.MLP_IN, 4, 0.1f,
        0f)) {
      DjlNetwork net = DjlNetwork.of(m.getBlock());
      net.unbalance(0.5, 3); // not a fresh initialization: unequal scales
      List<Parameter> ps = net.parameters();
      float[][] w = new float[ps.size()][];
      long[][] shape = new long[ps.size()][];
      for (int i = 0; i < ps.size(); i++) {
        NDArray a = ps.get(i).getArray();
        w[i] = a.toFloatArray();
        shape[i] = a.getShape().getShape();
      }
      for (double p : new double[] {1, 2, Double.POSITIVE_INFINITY}) {
        double want = bruteForce(w, shape, p);
        assertThat(net.pathNorm(p)).as("φ_%s", p).isCloseTo(want, org.assertj.core.data.Percentage.withPercentage(
            1e-9));
      }
    }
  }

  /**
   * φ_p by enumerating paths of a chain of dense layers (weight [out, in], bias [out] pairs): every path from an input
   * unit, or from the constant-1 unit of a layer's biases, to an output unit; Σ Π|w|^p, or max Π|w| for p = ∞.
   */
  static double bruteForce(float[][] w, long[][] shape, double p) {
    int layers = w.length / 2;
    double total = 0;
    for (int start = 0; start < layers; start++) { // start at layer start's inputs (start = 0) or its bias unit
      int in = (int) shape[2 * start][1];
      if (start == 0) {
        for (int u = 0; u < in; u++) {
          total = combine(total, walk(w, shape, 0, u, 1.0, p), p);
        }
      }
      int out = (int) shape[2 * start][0];
      for (int v = 0; v < out; v++) { // bias edge into unit v of layer start, then onward
        double e = Math.abs(w[2 * start + 1][v]);
        total = combine(total, onward(w, shape, start + 1, v, weight(e, p), p), p);
      }
    }
    return p == Double.POSITIVE_INFINITY ? total : Math.pow(total, 1 / p);
  }

  /** Paths from input unit u of layer l onward, with the product so far. */
  static double walk(float[][] w, long[][] shape, int l, int u, double acc, double p) {
    int out = (int) shape[2 * l][0];
    int in = (int) shape[2 * l][1];
    double s = 0;
    for (int v = 0; v < out; v++) {
      double e = Math.abs(w[2 * l][v * in + u]);
      s = combine(s, onward(w, shape, l + 1, v, times(acc, weight(e, p), p), p), p);
    }
    return s;
  }

  /** Paths from unit v, an input of layer l (l = layers: an output unit, the path ends). */
  static double onward(float[][] w, long[][] shape, int l, int v, double acc, double p) {
    return l == w.length / 2 ? acc : walk(w, shape, l, v, acc, p);
  }

  static double weight(double e, double p) {
    return p == Double.POSITIVE_INFINITY ? e : Math.pow(e, p);
  }

  static double times(double a, double b, double p) {
    return a * b;
  }

  static double combine(double a, double b, double p) {
    return p == Double.POSITIVE_INFINITY ? Math.max(a, b) : a + b;
  }

  @Test
  void normsOfTheModelEqualPathsgdNormsOfTheExportedFileAndTheFileReadsBack() throws Exception {
    try (Model m = Model.newInstance("f"); Trainer t = Fixtures.trainer(m, Fixtures.convNet(), Fixtures.CONV_IN, 4,
        0.1f, 0f)) {
      DjlNetwork net = DjlNetwork.of(m.getBlock());
      net.unbalance(0.5, 5);
      Path file = tmp.resolve("djl.safetensors");
      net.export(file);
      Map<String, Double> norms = net.norms();
      // what `pathsgd norms FILE` computes: the model as SafeTensors reads it, φ_p through PathNorms (biases counted)
      Network read = SafeTensors.read(file).model();
      assertThat(SafeTensors.read(file).metadata()).containsEntry(SafeTensors.LAYERS, net.layers());
      double[] want = ModelNorms.of(read).values();
      assertThat(norms.get("path_norm_1")).isEqualTo(PathNorms.phi(read.layers(), read.params(), 1, true));
      assertThat(norms.get("path_norm_2")).isEqualTo(PathNorms.phi(read.layers(), read.params(), 2, true));
      assertThat(norms.get("path_norm_inf")).isEqualTo(PathNorms.phi(read.layers(), read.params(),
          Double.POSITIVE_INFINITY, true));
      assertThat(norms.values().stream().mapToDouble(Double::doubleValue).toArray()).containsExactly(want);
      assertThat(norms.get("path_norm_2")).isPositive().isFinite();

      float[] exported = net.weights();
      net.unbalance(0.5, 6); // change the DJL model, then read the file back into it
      assertThat(net.weights()).isNotEqualTo(exported);
      net.importWeights(file);
      net.graph().params().put(0, new float[net.size()]);
      net.pullWeights();
      assertThat(net.weights()).containsExactly(exported);
    }
  }

  @Test
  void aFileOfAnotherNetworkIsRefusedNamingTheFile() throws Exception {
    Path file = tmp.resolve("mlp.safetensors");
    try (Model m = Model.newInstance("a"); Trainer t = Fixtures.trainer(m, Fixtures.mlp(), Fixtures.MLP_IN, 4, 0.1f,
        0f)) {
      DjlNetwork.of(m.getBlock()).export(file);
    }
    try (Model m = Model.newInstance("b"); Trainer t = Fixtures.trainer(m, Fixtures.convNet(), Fixtures.CONV_IN, 4,
        0.1f, 0f)) {
      DjlNetwork net = DjlNetwork.of(m.getBlock());
      assertThatThrownBy(() -> net.importWeights(file)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(file.toString()).hasMessageContaining("weight[16x12]")
          .hasMessageContaining("weight[4x1x3x3]");
    }
    assertThat(Files.size(file)).isPositive();
  }

  @Test
  void theNormsListenerRecordsTheNormsBeforeTrainingAndEachEpoch() throws Exception {
    NormsListener norms = new NormsListener(null, null);
    int[] calls = new int[1];
    NormsListener counted = new NormsListener(null, (epoch, n) -> {
      assertThat(epoch).isEqualTo(calls[0]++);
      assertThat(n).containsKey("path_norm_2");
    });
    try (Model m = Model.newInstance("l"); Trainer t = Fixtures.trainer(m, Fixtures.mlp(), Fixtures.MLP_IN, 8, 0.1f,
        0f, PathSgdListener.of(2), norms, counted)) {
      t.setMetrics(new ai.djl.metric.Metrics());
      DjlNetwork net = DjlNetwork.of(m.getBlock());
      double before = net.pathNorm(2);
      float[] x = Fixtures.inputs(32, 12, 9);
      int[] y = Fixtures.labels(32, 3, 9);
      Fixtures.fit(t, x, y, Fixtures.MLP_IN, 8);
      Fixtures.fit(t, x, y, Fixtures.MLP_IN, 8);
      List<Map<String, Double>> h = norms.history();
      assertThat(h).hasSize(3);
      assertThat(calls[0]).isEqualTo(3);
      assertThat(h.get(0).get("path_norm_2")).isEqualTo(before);
      assertThat(h.get(2)).isEqualTo(net.norms());
      assertThat(h.get(1).get("path_norm_2")).isNotEqualTo(before);
      assertThat(t.getMetrics().getMetricNames()).contains("path_norm_2", "path_norm_inf");
    }
  }
}
