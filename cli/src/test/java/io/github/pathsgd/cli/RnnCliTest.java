package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.core.geometry.RescalingGroups;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.model.SafeTensors;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 25's command line: {@code train --dataset seqmnist-sample-14 --layers rnn(H)} with Path-SGD writes a model
 * file (PyTorch nn.RNN's tensor names under layers.0), {@code norms} counts every tensor of the RNN, and {@code rescale
 * --unbalance} moves W_rec's row and column of a unit together: function and φ₂ unchanged, factors that map the source
 * to the result.
 */
class RnnCliTest {
  @TempDir Path tmp;

  @Test
  void trainWithPathSgdThenNormsAndUnbalancedRescaling() throws Exception {
    Path out = tmp.resolve("run");
    Path model = tmp.resolve("rnn.safetensors");
    CliTest.Result r = CliTest.run("train", "--dataset", "seqmnist-sample-14", "--layers", "rnn(8,kappa2)",
        "--optimizer", "path-sgd", "--lr", "0.01", "--per-class-train", "10", "--epochs", "2", "--out",
        out.toString(), "--save-model", model.toString(), "--quiet", "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode summary = Configs.json().readTree(out.resolve("summary.json").toFile());
    assertThat(summary.get("status").asText()).isEqualTo("completed");
    assertThat(summary.at("/final/train_loss").asDouble()).isBetween(0.1, 5.0);
    assertThat(ResidualCliTest.tensorNames(model)).containsExactlyInAnyOrder("layers.0.weight_ih_l0",
        "layers.0.weight_hh_l0", "layers.0.bias_hh_l0", "layers.1.weight", "layers.1.bias");
    LayerNet net = (LayerNet) SafeTensors.read(model).model();
    assertThat(net.spec().toString()).isEqualTo("rnn(8,kappa2)");
    assertThat(net.inputs()).isEqualTo(196);

    JsonNode norms = ModelCommands.norms(net, model);
    double sq = 0;
    for (float v : net.params().toArray()) {
      sq += (double) v * v;
    }
    assertThat(norms.at("/group_norms/l2").asDouble()).as("every tensor counted").isCloseTo(Math.sqrt(sq),
        within(1e-9 * Math.sqrt(sq)));
    assertThat(ModelCommands.layerLabels(norms)).isEqualTo("0.weight_ih_l0 8x1;0.weight_hh_l0 8x8;1 10x8;");

    Path u = tmp.resolve("u.safetensors");
    LayerNet v = ModelCommands.unbalanced(net, model, u, 8);
    JsonNode factors = Configs.json().readTree(tmp.resolve("u.factors.json").toFile());
    assertThat(factors.get("factors").fieldNames()).toIterable().containsExactly("layers.0");
    JsonNode row = factors.at("/factors/layers.0");
    double[] c = new double[row.size()];
    for (int j = 0; j < c.length; j++) {
      c[j] = row.get(j).asDouble();
    }
    // W_rec[a, b] × c_a / c_b, the output layer's column j ÷ c_j
    int wRec = 8;
    for (int i = 0; i < 8; i++) {
      for (int j = 0; j < 8; j++) {
        double want = net.params().get(wRec + i * 8 + j) * c[i] / c[j];
        assertThat((double) v.params().get(wRec + i * 8 + j)).isCloseTo(want, within(1e-5 * Math.max(1,
            Math.abs(want))));
      }
    }
    RescalingGroups groups = RescalingGroups.of(net.layers());
    LayerNet again = net.copy();
    groups.scaleAll(again.params().buffer(), new double[][] {c, null});
    for (int i = 0; i < v.params().size(); i++) {
      assertThat((double) again.params().get(i)).isCloseTo(v.params().get(i), within(1e-5 * Math.max(1,
          Math.abs(v.params().get(i)))));
    }
    assertThat(List.of(groups.flatCount())).containsExactly(2);
  }
}
