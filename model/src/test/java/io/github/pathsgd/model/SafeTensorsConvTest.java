package io.github.pathsgd.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.LayerSpec;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.model.format.InvalidModelException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Conv models in safetensors: PyTorch's names and shapes, the spec in the metadata, a round trip, and refusals. */
class SafeTensorsConvTest {
  static LayerNet net() {
    LayerNet n = LayerSpec.parse("conv(3,3x2,pad=1),avgpool(2),conv(2,2),maxpool(2),dense(5)").build(2, 8, 7, 4);
    Init.balanced(n, new Rng(3));
    n.params().set(n.params().size() - 1, 0.5f);
    return n;
  }

  static JsonNode header(Path f) throws IOException {
    byte[] b = Files.readAllBytes(f);
    long n = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    return new ObjectMapper().readTree(new String(b, 8, (int) n, StandardCharsets.UTF_8));
  }

  /** The file with its header replaced (padded to the old length with spaces, which must suffice). */
  static void rewrite(Path f, java.util.function.Consumer<ObjectNode> edit) throws IOException {
    byte[] b = Files.readAllBytes(f);
    int n = (int) ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    ObjectNode h = (ObjectNode) new ObjectMapper().readTree(new String(b, 8, n, StandardCharsets.UTF_8));
    edit.accept(h);
    byte[] nh = new ObjectMapper().writeValueAsBytes(h);
    assertThat(nh.length).isLessThanOrEqualTo(n);
    Arrays.fill(b, 8, 8 + n, (byte) ' ');
    System.arraycopy(nh, 0, b, 8, nh.length);
    Files.write(f, b);
  }

  @Test
  void roundTripWithPyTorchNamesAndShapes(@TempDir Path tmp) throws IOException {
    LayerNet net = net();
    Path f = tmp.resolve("c.safetensors");
    SafeTensors.write(net, f, Map.of("note", "x"));
    JsonNode h = header(f);
    assertThat(h.get("layers.0.weight").get("shape").toString()).isEqualTo("[3,2,3,2]");
    assertThat(h.get("layers.0.bias").get("shape").toString()).isEqualTo("[3]");
    assertThat(h.get("layers.1.weight").get("shape").toString()).isEqualTo("[2,3,2,2]");
    // 2×8×7 → conv pad 1 3×8×8 → avg 3×4×4 → conv 2×3×3 → max 2×1×1 → dense 5 → 4
    assertThat(h.get("layers.2.weight").get("shape").toString()).isEqualTo("[5,2]");
    assertThat(h.get("layers.3.weight").get("shape").toString()).isEqualTo("[4,5]");
    assertThat(h.get("__metadata__").get(SafeTensors.LAYERS).textValue())
        .isEqualTo("conv(3,3x2,pad=1),avgpool(2),conv(2,2),maxpool(2),dense(5)");
    assertThat(h.get("__metadata__").get(SafeTensors.INPUT_SHAPE).textValue()).isEqualTo("2,8,7");
    assertThat(h.get("__metadata__").has(SafeTensors.WIDTHS)).isFalse();
    SafeTensors.Model m = SafeTensors.read(f);
    LayerNet back = (LayerNet) m.model();
    assertThat(back.layout()).isEqualTo(net.layout());
    assertThat(back.params().toArray()).containsExactly(net.params().toArray());
    assertThat(m.metadata()).containsEntry("note", "x");
    assertThatThrownBy(m::network).isInstanceOf(IllegalStateException.class).hasMessageContaining("network of layers");
  }

  @Test
  void aDenseOnlyNetworkOfLayersIsWrittenAsItsMlpWithTheSpecBeside(@TempDir Path tmp) throws IOException {
    LayerNet ln = LayerSpec.parse("dense(3)").build(1, 1, 2, 2);
    Init.balanced(ln, new Rng(7));
    LayerNet mlp = Init.balanced(new DenseChain(2, 3, 2), new Rng(7));
    Path a = tmp.resolve("a.safetensors");
    Path b = tmp.resolve("b.safetensors");
    SafeTensors.write(ln, a, null);
    SafeTensors.write(mlp, b, null);
    JsonNode ha = header(a);
    JsonNode hb = header(b);
    for (String t : new String[] {"layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"}) {
      assertThat(ha.get(t)).as(t).isEqualTo(hb.get(t));
    }
    assertThat(ha.get("__metadata__").get(SafeTensors.DATA_SHA256))
        .isEqualTo(hb.get("__metadata__").get(SafeTensors.DATA_SHA256));
  }

  @Test
  void refusals(@TempDir Path tmp) throws IOException {
    Path f = tmp.resolve("c.safetensors");
    String[][] cases = {
      {"shape", "tensor 'layers.0.weight' has shape [3, 2, 2, 3], the layers conv(3,3x2,pad=1),avgpool(2),conv(2,2),"
          + "maxpool(2),dense(5) on input 2,8,7 give [3, 2, 3, 2]"},
      {"spec", "__metadata__ pathsgd_layers: layers: 'conv(3)': expected conv(FILTERS,KERNEL[,stride=S][,pad=P]), "
          + "KERNEL as K or KHxKW"},
      {"fit", "__metadata__ pathsgd_layers 'conv(3,9),avgpool(2),conv(2,2),maxpool(2),dense(5)' on input 2,8,7: "
          + "layers: layer 1 'conv(3,9)': kernel 9x9 is larger than its input 2x8x7 padded to 8x7"},
      {"no-shape", "__metadata__ has pathsgd_layers but no pathsgd_input_shape (a network of layers records both)"},
      {"bad-shape", "__metadata__ pathsgd_input_shape is '2,8', expected C,H,W (three positive integers)"},
      {"extra", "unexpected tensor 'layers.4.bias' (the layers conv(3,3x2,pad=1),avgpool(2),conv(2,2),maxpool(2),"
          + "dense(5) have layers.{i}.weight and .bias for i = 0..3)"},
      {"widths", "__metadata__ has both pathsgd_widths and pathsgd_layers"},
    };
    for (String[] c : cases) {
      SafeTensors.write(net(), f, Map.of("room", "x".repeat(80))); // header space for the longer edits
      rewrite(f, h -> {
        ObjectNode meta = (ObjectNode) h.get("__metadata__");
        meta.remove("room");
        switch (c[0]) {
          case "shape" -> ((ObjectNode) h.get("layers.0.weight")).putArray("shape").add(3).add(2).add(2).add(3);
          case "spec" -> meta.put(SafeTensors.LAYERS, "conv(3)");
          case "fit" -> meta.put(SafeTensors.LAYERS, "conv(3,9),avgpool(2),conv(2,2),maxpool(2),dense(5)");
          case "no-shape" -> meta.remove(SafeTensors.INPUT_SHAPE);
          case "bad-shape" -> meta.put(SafeTensors.INPUT_SHAPE, "2,8");
          case "extra" -> {
            // the output bias renamed: layers.3.bias missing is found after the unexpected name
            JsonNode b = h.remove("layers.3.bias");
            h.set("layers.4.bias", b);
          }
          case "widths" -> meta.put(SafeTensors.WIDTHS, "2-3");
          default -> throw new IllegalStateException(c[0]);
        }
      });
      assertThatThrownBy(() -> SafeTensors.read(f)).as(c[0]).isInstanceOf(InvalidModelException.class)
          .hasMessage(f + ": " + c[1]);
    }
    // a flipped data bit: the checksum
    SafeTensors.write(net(), f, null);
    byte[] b = Files.readAllBytes(f);
    b[b.length - 3] ^= 1;
    Files.write(f, b);
    assertThatThrownBy(() -> SafeTensors.read(f)).hasMessageContaining("the file is damaged");
  }
}
