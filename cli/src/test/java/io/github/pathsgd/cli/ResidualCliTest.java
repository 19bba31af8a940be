package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.core.geometry.PathNorms;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.LayerSpec;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.model.SafeTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pathsgd norms} and {@code rescale --unbalance} on a model with residual blocks: the norms count every tensor
 * of a block (one row per inner layer, labelled as the model file names it), and the unbalanced rescaling, which
 * would have to move both ends of an identity skip together, is refused with one line naming the block, writing
 * nothing.
 */
class ResidualCliTest {
  @TempDir Path tmp;

  @Test
  void normsCountEveryTensorOfABlockAndUnbalancingAcrossASkipIsRefused() throws Exception {
    LayerNet net = LayerSpec.parse("conv(3,3,pad=1),res(conv(3,3,pad=1),conv(3,3,pad=1)),maxpool(2),dense(6),"
        + "res(dense(5),dense(6))").build(1, 6, 6, 4);
    Init.balanced(net, new Rng(2));
    Path model = tmp.resolve("r.safetensors");
    SafeTensors.write(net, model, Map.of());
    CliTest.Result n = CliTest.run("norms", model.toString(), "--json");
    assertThat(n.code()).as(n.err()).isZero();
    JsonNode norms = Configs.json().readTree(n.out());
    assertThat(norms.at("/path_norm/2").asDouble()).isCloseTo(PathNorms.phi(net.layers(), net.params(), 2, true),
        within(1e-9));
    double sq = 0;
    for (float v : net.params().toArray()) {
      sq += (double) v * v;
    }
    assertThat(norms.at("/group_norms/l2").asDouble()).as("every tensor counted").isCloseTo(Math.sqrt(sq),
        within(1e-9 * Math.sqrt(sq)));
    StringBuilder labels = new StringBuilder();
    norms.get("layers").forEach(l -> labels.append(l.get("layer").asText()).append(' ').append(l.get("shape")
        .asText()).append(';'));
    assertThat(labels.toString()).isEqualTo("0 3x1x3x3;1.f.0 3x3x3x3;1.f.1 3x3x3x3;2 6x27;3.f.0 5x6;3.f.1 6x5;4 4x6;");

    Path out = tmp.resolve("u.safetensors");
    CliTest.Result s = CliTest.run("rescale", model.toString(), "--unbalance", "--out", out.toString());
    assertThat(s.code()).isNotZero();
    assertThat(s.err()).contains("res: input unit 0 of a residual block is tied to its output unit by the identity "
        + "skip").doesNotContain("internal error");
    assertThat(Files.exists(out)).isFalse();
  }
}
