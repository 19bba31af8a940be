package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.core.geometry.ChannelRescaling;
import io.github.pathsgd.core.geometry.PathNorms;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.model.SafeTensors;
import java.nio.file.Path;

/** The checks the model-file tests make of {@code pathsgd norms} and {@code pathsgd rescale --unbalance}. */
final class ModelCommands {
  private ModelCommands() {}

  /** {@code norms MODEL --json} of the file {@code net} was written to: exit 0 and φ₂ of {@code net}; the JSON. */
  static JsonNode norms(LayerNet net, Path model) throws Exception {
    CliTest.Result n = CliTest.run("norms", model.toString(), "--json");
    assertThat(n.code()).as(n.err()).isZero();
    JsonNode norms = Configs.json().readTree(n.out());
    assertThat(norms.at("/path_norm/2").asDouble()).isCloseTo(PathNorms.phi(net.layers(), net.params(), 2, true),
        within(1e-9));
    return norms;
  }

  /** The norms JSON's rows as "layer shape;" items, in order. */
  static String layerLabels(JsonNode norms) {
    StringBuilder labels = new StringBuilder();
    norms.get("layers").forEach(l -> labels.append(l.get("layer").asText()).append(' ').append(l.get("shape")
        .asText()).append(';'));
    return labels.toString();
  }

  /**
   * {@code rescale MODEL --unbalance --out OUT}: exit 0, "wrote OUT"; the result's parameters differ from {@code
   * net}'s while its outputs on a fixed batch of {@code batch} inputs (to 1e-4) and its φ₂ (to 1e-4) are the same.
   *
   * @return the rescaled network read from {@code out}
   */
  static LayerNet unbalanced(LayerNet net, Path model, Path out, int batch) throws Exception {
    CliTest.Result s = CliTest.run("rescale", model.toString(), "--unbalance", "--out", out.toString());
    assertThat(s.code()).as(s.err()).isZero();
    assertThat(s.out()).contains("wrote " + out);
    LayerNet u = (LayerNet) SafeTensors.read(out).model();
    assertThat(u.params().toArray()).isNotEqualTo(net.params().toArray());
    float[] x = new float[batch * net.inputs()];
    for (int i = 0; i < x.length; i++) {
      x[i] = (i * 37 % 101) / 101f;
    }
    float[] a = ChannelRescaling.outputs(net, x, batch);
    float[] b = ChannelRescaling.outputs(u, x, batch);
    for (int i = 0; i < a.length; i++) {
      assertThat((double) b[i]).isCloseTo(a[i], within(1e-4 * Math.max(1, Math.abs(a[i]))));
    }
    double phi = PathNorms.phi(net.layers(), net.params(), 2, true);
    assertThat(PathNorms.phi(u.layers(), u.params(), 2, true)).isCloseTo(phi, within(1e-4 * phi));
    return u;
  }
}
