package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.data.AddingProblem;
import io.github.pathsgd.data.Datasets;
import io.github.pathsgd.data.SequenceDataset;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.model.SafeTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 25's adding problem from the command line: {@code train --dataset adding-20 --layers rnn(8) --init irnn
 * --clip-norm 1} learns (test MSE falls well below the initial one), summary.json's regression entry holds the test
 * baseline computed from the generator's sequences and the final MSE relative to it, and {@code norms} and {@code
 * rescale --unbalance} work on the saved model (the spectral norm product left out with its reason).
 */
class AddingCliTest {
  @TempDir Path tmp;

  @Test
  void trainTheAddingProblemThenNormsAndRescale() throws Exception {
    Path out = tmp.resolve("run");
    Path model = tmp.resolve("adding.safetensors");
    CliTest.Result r = CliTest.run("train", "--dataset", "adding-20", "--layers", "rnn(8)", "--optimizer", "sgd",
        "--init", "irnn", "--clip-norm", "1", "--lr", "0.05", "--dropout", "0", "--per-class-train", "600",
        "--validation-size", "200", "--batch-size", "20", "--epochs", "3", "--out", out.toString(), "--save-model",
        model.toString(), "--quiet", "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode summary = Configs.json().readTree(out.resolve("summary.json").toFile());
    assertThat(summary.get("status").asText()).isEqualTo("completed");
    JsonNode config = Configs.json().readTree(out.resolve("config.json").toFile());
    assertThat(config.at("/config/clip_norm").asDouble()).isEqualTo(1.0);
    assertThat(config.at("/config/init").asText()).isEqualTo("irnn");
    // the test baseline: predicting 1 on the generator's 1,000 test sequences of seed 2
    SequenceDataset test = AddingProblem.generate("t", Datasets.ADDING_TEST, 20, Datasets.ADDING_TEST_SEED);
    double base = 0;
    for (float t : test.targets()) {
      base += (t - 1.0) * (t - 1.0);
    }
    base /= test.n();
    JsonNode reg = summary.get("regression");
    assertThat(reg.at("/baseline_mse/test").asDouble()).isEqualTo(base);
    double testMse = summary.at("/final/test_loss").asDouble();
    assertThat(reg.at("/final_relative_mse/test").asDouble()).isCloseTo(testMse / base, within(1e-12));
    // it learns: the initial network (output near 0) has MSE near E[t²] ≈ 1.17; after 3 epochs well below half of it
    String metrics = Files.readString(out.resolve("metrics.csv"));
    double initial = Double.NaN;
    for (String line : metrics.split("\n")) {
      if (line.contains(",0,test,loss,")) {
        initial = Double.parseDouble(line.substring(line.lastIndexOf(',') + 1));
      }
    }
    assertThat(initial).isBetween(0.8, 1.6);
    assertThat(testMse).isLessThan(0.5 * initial);
    assertThat(metrics).doesNotContain("spectral_norm_product");

    LayerNet net = (LayerNet) SafeTensors.read(model).model();
    assertThat(net.spec().toString()).isEqualTo("rnn(8)");
    assertThat(net.outputs()).isEqualTo(1);
    JsonNode norms = ModelCommands.norms(net, model);
    assertThat(norms.at("/metrics/spectral_norm_product").isNull()).isTrue();
    assertThat(norms.at("/metrics/spectral_norm_product_note").asText()).contains("rnn layer");
    CliTest.Result text = CliTest.run("norms", model.toString());
    assertThat(text.out()).contains("spectral norm product Π‖W_l‖₂: left out for a network with an rnn layer");
    ModelCommands.unbalanced(net, model, tmp.resolve("u.safetensors"), 8);
  }
}
