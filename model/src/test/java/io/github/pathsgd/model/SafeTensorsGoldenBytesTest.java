package io.github.pathsgd.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.LayerSpec;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.util.Rng;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model files keep their bytes across the move out of {@code experiments.io}: the SHA-256 of a fully connected and of
 * a conv network's file, as the writer in {@code experiments.io} wrote them (commit a95aad2), and the stream writer
 * gives the same bytes as the atomic file writer.
 */
class SafeTensorsGoldenBytesTest {
  @TempDir Path tmp;

  static String sha(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  static LayerNet mlp() {
    LayerNet net = Init.balanced(new DenseChain(2, 3, 2), new Rng(7));
    net.params().set(net.chain().biasOffset(0) + 1, 0.25f);
    return net;
  }

  static LayerNet conv() {
    LayerNet ln = LayerSpec.parse("conv(3,3,pad=1),maxpool(2),dense(5)").build(2, 6, 6, 4);
    Init.balanced(ln, new Rng(11));
    return ln;
  }

  byte[] written(Network net, Map<String, String> meta, String name) throws Exception {
    Path f = tmp.resolve(name);
    SafeTensors.write(net, f, meta);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SafeTensors.write(net, out, meta);
    byte[] b = Files.readAllBytes(f);
    assertThat(out.toByteArray()).as("stream and file writers").isEqualTo(b);
    return b;
  }

  @Test
  void fullyConnectedFileHasTheBytesOfBefore() throws Exception {
    byte[] b = written(mlp(), Map.of("note", "x", "b", "y"), "mlp.safetensors");
    assertThat(b).hasSize(516);
    assertThat(sha(b)).isEqualTo("1b77daf3366d36226306b330e9d06367c4c9d3969df68bb3d29cc11b7f8289ee");
  }

  @Test
  void convFileHasTheBytesOfBefore() throws Exception {
    byte[] b = written(conv(), Map.of("note", "x"), "conv.safetensors");
    assertThat(sha(b)).isEqualTo("b7eaa6bc049000750d7f388041d341b0130eed0ae1e427319fed7ca08d26295f");
    assertThat(((LayerNet) SafeTensors.read(tmp.resolve("conv.safetensors")).model()).params().toArray())
        .containsExactly(conv().params().toArray());
  }
}
