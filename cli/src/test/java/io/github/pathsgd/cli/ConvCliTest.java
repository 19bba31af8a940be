package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.core.geometry.PathNorms;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.model.SafeTensors;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train --layers}, {@code norms} and {@code rescale} on a tiny conv net and a small sample (seconds). */
class ConvCliTest {
  @Test
  void trainNormsAndRescaleAConvNet(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("run");
    Path model = tmp.resolve("m.safetensors");
    CliTest.Result r = CliTest.run("train", "--dataset", "mnist-sample", "--layers", "conv(4,3,pad=1),avgpool(2),"
        + "conv(4,3,stride=2),maxpool(2),dense(16)", "--optimizer", "path-sgd", "--momentum", "0.9", "--lr", "0.01",
        "--per-class-train", "30", "--epochs", "2", "--init", "unbalanced", "--out", out.toString(), "--save-model",
        model.toString(), "--quiet", "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode summary = Configs.json().readTree(out.resolve("summary.json").toFile());
    assertThat(summary.get("status").asText()).isEqualTo("completed");
    assertThat(summary.at("/final/train_loss").asDouble()).isLessThan(2.3);
    JsonNode config = Configs.json().readTree(out.resolve("config.json").toFile());
    assertThat(config.at("/config/layers").asText())
        .isEqualTo("conv(4,3,pad=1),avgpool(2),conv(4,3,stride=2),maxpool(2),dense(16)");
    assertThat(config.at("/config/hidden").size()).isZero();

    LayerNet net = (LayerNet) SafeTensors.read(model).model();
    assertThat(net.inputShape()).containsExactly(1, 28, 28);
    CliTest.Result n = CliTest.run("norms", model.toString(), "--json");
    assertThat(n.code()).as(n.err()).isZero();
    JsonNode norms = Configs.json().readTree(n.out());
    for (String p : new String[] {"1", "2", "inf"}) {
      double want = PathNorms.phi(net.layers(), net.params(), p.equals("inf") ? Double.POSITIVE_INFINITY
          : Double.parseDouble(p), true);
      assertThat(norms.at("/path_norm/" + p).asDouble()).as("φ_%s", p).isCloseTo(want, within(1e-12 * want))
          .isPositive();
    }
    assertThat(norms.at("/layers/0/shape").asText()).isEqualTo("4x1x3x3");
    assertThat(norms.at("/layers/3/shape").asText()).isEqualTo("10x16");

    Path rescaled = tmp.resolve("u.safetensors");
    LayerNet u = ModelCommands.unbalanced(net, model, rescaled, 16);
    JsonNode factors = Configs.json().readTree(tmp.resolve("u.factors.json").toFile());
    assertThat(factors.get("factors").fieldNames()).toIterable().containsExactly("layers.0", "layers.1", "layers.2");
    assertThat(factors.at("/factors/layers.2").size()).isEqualTo(16);

    // factors of 10^(e^4) ≈ 10^55 overflow float32: refused in one line, nothing written
    Path over = tmp.resolve("o.safetensors");
    CliTest.Result o = CliTest.run("rescale", model.toString(), "--unbalance", "--factor", "10^c", "--mu", "4",
        "--sigma", "0", "--out", over.toString());
    assertThat(o.code()).isNotZero();
    assertThat(o.err().lines().count()).isEqualTo(1);
    assertThat(o.err()).contains("unbalanced rescaling (", "refused: ", "overflow to infinity", "largest factor",
        "channel");
    assertThat(over).doesNotExist();
    assertThat(tmp.resolve("o.factors.json")).doesNotExist();
  }

  /** {@code --layers dense(8)} trains exactly as {@code --hidden 8}: same init, same picks, same kernels, same bits. */
  @Test
  void aDenseOnlyLayersRunGivesTheNumbersOfTheHiddenRun(@TempDir Path tmp) throws Exception {
    JsonNode[] finals = new JsonNode[2];
    String[][] nets = {{"--hidden", "8"}, {"--layers", "dense(8)"}};
    for (int i = 0; i < 2; i++) {
      Path out = tmp.resolve("r" + i);
      CliTest.Result r = CliTest.run("train", nets[i][0], nets[i][1], "--per-class-train", "20", "--epochs", "2",
          "--init", "unbalanced", "--out", out.toString(), "--quiet", "--threads", "1");
      assertThat(r.code()).as(r.err()).isZero();
      finals[i] = Configs.json().readTree(out.resolve("summary.json").toFile()).get("final");
    }
    assertThat(finals[1]).isEqualTo(finals[0]); // sgd with momentum 0.9 and dropout 0.5: the unfused step on both
  }

  @Test
  void layersAndHiddenAreExclusiveAndBadSpecsAreOneLine(@TempDir Path tmp) {
    CliTest.Result a = CliTest.run("train", "--hidden", "8", "--layers", "dense(8)", "--out", tmp.toString());
    assertThat(a.code()).isNotZero();
    assertThat(a.err().strip()).endsWith("--hidden and --layers: give one of them, not both");
    CliTest.Result b = CliTest.run("train", "--layers", "conv(8,3),pool(2)", "--out", tmp.toString());
    assertThat(b.code()).isNotZero();
    assertThat(b.err().lines().count()).isEqualTo(1);
    assertThat(b.err()).contains("layers: 'pool(2)': expected one of conv, avgpool, maxpool, dense, flatten");
    CliTest.Result c = CliTest.run("train", "--layers", "conv(8,30)", "--per-class-train", "10", "--out",
        tmp.resolve("c").toString());
    assertThat(c.code()).isNotZero();
    assertThat(c.err().lines().count()).isEqualTo(1);
    assertThat(c.err()).contains("layers: layer 1 'conv(8,30)': kernel 30x30 is larger than its input 1x28x28");
  }
}
