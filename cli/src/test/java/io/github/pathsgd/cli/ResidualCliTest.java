package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.core.geometry.RescalingGroups;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.LayerSpec;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.model.SafeTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pathsgd norms} and {@code rescale --unbalance} on a model with residual blocks: the norms count every tensor
 * of a block (one row per inner layer, labelled as the model file names it); the unbalanced rescaling moves the
 * two ends of an identity skip together (one group of {@code RescalingGroups}), keeps the function and φ₂, and writes
 * factors that map the source to the result; the tensor names (PyTorch's for a block holding {@code self.f =
 * nn.Sequential(...)}) round-trip.
 */
class ResidualCliTest {
  @TempDir Path tmp;

  @Test
  void normsCountEveryTensorOfABlockAndUnbalancingMovesTheSkipsEndsTogether() throws Exception {
    LayerNet net = LayerSpec.parse("conv(3,3,pad=1),res(conv(3,3,pad=1),conv(3,3,pad=1)),maxpool(2),dense(6),"
        + "res(dense(5),dense(6))").build(1, 6, 6, 4);
    Init.balanced(net, new Rng(2));
    Path model = tmp.resolve("r.safetensors");
    SafeTensors.write(net, model, Map.of());
    JsonNode norms = ModelCommands.norms(net, model);
    double sq = 0;
    for (float v : net.params().toArray()) {
      sq += (double) v * v;
    }
    assertThat(norms.at("/group_norms/l2").asDouble()).as("every tensor counted").isCloseTo(Math.sqrt(sq),
        within(1e-9 * Math.sqrt(sq)));
    assertThat(ModelCommands.layerLabels(norms)).isEqualTo("0 3x1x3x3;1.f.0 3x3x3x3;1.f.1 3x3x3x3;2 6x27;3.f.0 5x6;3.f.1 6x5;4 4x6;");

    Path out = tmp.resolve("u.safetensors");
    LayerNet u = ModelCommands.unbalanced(net, model, out, 16);
    JsonNode factors = Configs.json().readTree(tmp.resolve("u.factors.json").toFile());
    assertThat(factors.get("factors").fieldNames()).toIterable().containsExactly("layers.0", "layers.1.f.0",
        "layers.2", "layers.3.f.0");
    // the factors map the source to the model: the groups of the tied channels (the skip's two ends together)
    RescalingGroups groups = RescalingGroups.of(net.layers());
    double[][] f = new double[groups.flatCount()][];
    for (RescalingGroups.Family fam : groups.families()) {
      JsonNode row = factors.at("/factors/" + fam.tensors());
      f[fam.flat()] = new double[row.size()];
      for (int c = 0; c < row.size(); c++) {
        f[fam.flat()][c] = row.get(c).asDouble();
      }
    }
    LayerNet again = net.copy();
    groups.scaleAll(again.params().buffer(), f);
    for (int i = 0; i < u.params().size(); i++) {
      assertThat((double) again.params().get(i)).isCloseTo(u.params().get(i), within(1e-5 * Math.max(1,
          Math.abs(u.params().get(i)))));
    }
    // names: PyTorch's for a module whose block holds self.f = nn.Sequential(...) (or a ModuleList), the same in
    // the source, in the rescaled file, and after reading and writing the rescaled file again
    List<String> names = List.of("layers.0.weight", "layers.0.bias", "layers.1.f.0.weight", "layers.1.f.0.bias",
        "layers.1.f.1.weight", "layers.1.f.1.bias", "layers.2.weight", "layers.2.bias", "layers.3.f.0.weight",
        "layers.3.f.0.bias", "layers.3.f.1.weight", "layers.3.f.1.bias", "layers.4.weight", "layers.4.bias");
    assertThat(tensorNames(model)).containsExactlyInAnyOrderElementsOf(names);
    assertThat(tensorNames(out)).containsExactlyInAnyOrderElementsOf(names);
    Path back = tmp.resolve("back.safetensors");
    SafeTensors.write(u, back, Map.of());
    assertThat(tensorNames(back)).containsExactlyInAnyOrderElementsOf(names);
    assertThat(SafeTensors.read(back).model().params().toArray()).containsExactly(u.params().toArray());
  }

  /**
   * A projection skip's weights ({@code layers.{i}.proj}) are counted by the norms and rescaled with the block's output
   * group (F's last layer's family); the channels before the block rescale on their own.
   */
  @Test
  void normsAndUnbalancingWorkOnProjectionSkips() throws Exception {
    LayerNet net = LayerSpec.parse("conv(3,3,pad=1),res(conv(4,3,stride=2,pad=1),conv(4,3,pad=1),proj),dense(6),"
        + "res(dense(5),dense(4),proj)").build(1, 6, 6, 4);
    Init.balanced(net, new Rng(3));
    Path model = tmp.resolve("p.safetensors");
    SafeTensors.write(net, model, Map.of());
    JsonNode norms = ModelCommands.norms(net, model);
    assertThat(ModelCommands.layerLabels(norms)).isEqualTo("0 3x1x3x3;1.f.0 4x3x3x3;1.f.1 4x4x3x3;1.proj 4x3x1x1;2 6x36;3.f.0 5x6;"
        + "3.f.1 4x5;3.proj 4x6;4 4x4;");
    Path out = tmp.resolve("pu.safetensors");
    LayerNet u = ModelCommands.unbalanced(net, model, out, 16);
    JsonNode factors = Configs.json().readTree(tmp.resolve("pu.factors.json").toFile());
    assertThat(factors.get("factors").fieldNames()).toIterable().containsExactly("layers.0", "layers.1.f.0",
        "layers.1.f.1", "layers.2", "layers.3.f.0", "layers.3.f.1");
    assertThat(tensorNames(out)).contains("layers.1.proj.weight", "layers.1.proj.bias", "layers.3.proj.weight");
  }

  /** The tensor names in a safetensors file's header (8-byte little-endian length, then JSON). */
  static List<String> tensorNames(Path file) throws Exception {
    byte[] bytes = Files.readAllBytes(file);
    long n = java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    JsonNode header = Configs.json().readTree(new String(bytes, 8, (int) n, java.nio.charset.StandardCharsets.UTF_8));
    List<String> out = new java.util.ArrayList<>();
    header.fieldNames().forEachRemaining(k -> {
      if (!k.equals("__metadata__")) {
        out.add(k);
      }
    });
    return out;
  }
}
