package io.github.pathsgd.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.LayerSpec;
import io.github.pathsgd.core.util.Rng;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A network with residual blocks round-trips through a model file, its tensors named from the slices each layer
 * declares: a block's F is {@code layers.{i}.f.{j}.weight/.bias}, as a PyTorch module holding {@code self.f =
 * nn.ModuleList([...])} names them (the skip has no parameter; ReLU is functional), i and j counting the layers with
 * parameters.
 */
class SafeTensorsResidualTest {
  @TempDir Path tmp;

  static List<String> names(Path f) throws Exception {
    byte[] b = Files.readAllBytes(f);
    int n = (int) ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    JsonNode h = new ObjectMapper().readTree(new String(b, 8, n, StandardCharsets.UTF_8));
    List<String> out = new ArrayList<>();
    h.fieldNames().forEachRemaining(out::add);
    return out;
  }

  @Test
  void residualNetworksRoundTripUnderPyTorchStyleNames() throws Exception {
    for (String spec : new String[] {"conv(3,3,pad=1),res(conv(3,3,pad=1),conv(3,3,pad=1)),maxpool(2)",
        "dense(6),res(dense(5),dense(6))"}) {
      LayerNet net = LayerSpec.parse(spec).build(2, 4, 4, 3);
      Init.balanced(net, new Rng(8));
      Path f = tmp.resolve("m" + spec.length() + ".safetensors");
      SafeTensors.write(net, f, Map.of());
      assertThat(names(f)).containsExactly("__metadata__", "layers.0.weight", "layers.0.bias", "layers.1.f.0.weight",
          "layers.1.f.0.bias", "layers.1.f.1.weight", "layers.1.f.1.bias", "layers.2.weight", "layers.2.bias");
      SafeTensors.Model back = SafeTensors.read(f);
      assertThat(back.metadata()).containsEntry(SafeTensors.LAYERS, spec);
      LayerNet m = (LayerNet) back.model();
      assertThat(m.layout()).isEqualTo(net.layout());
      assertThat(m.params().toArray()).containsExactly(net.params().toArray());
    }
  }

  /** A projection skip's weights are {@code layers.{i}.proj.weight/.bias}, after F's, as PyTorch's {@code self.proj}. */
  @Test
  void projectionSkipsRoundTripAsProj() throws Exception {
    for (String spec : new String[] {"conv(3,3,pad=1),res(conv(4,3,stride=2,pad=1),conv(4,3,pad=1),proj)",
        "dense(6),res(dense(5),dense(4),proj)"}) {
      LayerNet net = LayerSpec.parse(spec).build(2, 4, 4, 3);
      Init.balanced(net, new Rng(9));
      Path f = tmp.resolve("p" + spec.length() + ".safetensors");
      SafeTensors.write(net, f, Map.of());
      assertThat(names(f)).containsExactly("__metadata__", "layers.0.weight", "layers.0.bias", "layers.1.f.0.weight",
          "layers.1.f.0.bias", "layers.1.f.1.weight", "layers.1.f.1.bias", "layers.1.proj.weight", "layers.1.proj.bias",
          "layers.2.weight", "layers.2.bias");
      SafeTensors.Model back = SafeTensors.read(f);
      assertThat(back.metadata()).containsEntry(SafeTensors.LAYERS, spec);
      LayerNet m = (LayerNet) back.model();
      assertThat(m.layout()).isEqualTo(net.layout());
      assertThat(m.params().toArray()).containsExactly(net.params().toArray());
    }
  }
}
