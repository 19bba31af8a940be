package io.github.pathsgd.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.model.format.InvalidModelException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The strict safetensors reader: each rule of the format and of pathsgd's models, on files the test writes. */
class SafeTensorsTest {
  /** A 2-3-2 network: layers.0.weight [3, 2], layers.0.bias [3], layers.1.weight [2, 3], layers.1.bias [2]. */
  static LayerNet net() {
    LayerNet net = Init.balanced(new DenseChain(2, 3, 2), new Rng(7));
    net.params().set(net.chain().biasOffset(0) + 1, 0.25f);
    return net;
  }

  /** The 8-byte little-endian length, the header as given (no padding), then the data. */
  static byte[] file(String header, byte[] data) {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
    out.writeBytes(h);
    out.writeBytes(data);
    return out.toByteArray();
  }

  /** The little-endian bytes of the net's parameters (W0, b0, W1, b1). */
  static byte[] data(LayerNet net) {
    ByteBuffer b = ByteBuffer.allocate(4 * net.params().size()).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : net.params().toArray()) {
      b.putFloat(f);
    }
    return b.array();
  }

  /** A header for the 2-3-2 net with the given names, in the flat order, no metadata. */
  static String header(String w0, String b0, String w1, String b1) {
    return "{\"" + w0 + "\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]},"
        + "\"" + b0 + "\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[24,36]},"
        + "\"" + w1 + "\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[36,60]},"
        + "\"" + b1 + "\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[60,68]}}";
  }

  static String plain() {
    return header("layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias");
  }

  static Path put(Path dir, byte[] bytes) throws IOException {
    Path f = dir.resolve("m.safetensors");
    Files.write(f, bytes);
    return f;
  }

  static void refused(Path f, String... parts) {
    assertThatThrownBy(() -> SafeTensors.read(f)).isInstanceOf(InvalidModelException.class)
        .hasMessageStartingWith(f + ": ").hasMessageContainingAll(parts);
  }

  @Test
  void roundTripWithChecksumAndWidths(@TempDir Path tmp) throws IOException {
    LayerNet net = net();
    Path f = tmp.resolve("m.safetensors");
    SafeTensors.write(net, f, Map.of("note", "x"));
    SafeTensors.Model m = SafeTensors.read(f);
    assertThat(m.network().layout()).isEqualTo(net.layout());
    assertThat(m.network().params().toArray()).containsExactly(net.params().toArray());
    assertThat(m.metadata()).containsEntry("note", "x").containsEntry(SafeTensors.WIDTHS, "2-3-2")
        .containsKey(SafeTensors.DATA_SHA256);
    assertThat(m.metadata().get(SafeTensors.DATA_SHA256)).matches("[0-9a-f]{64}");
  }

  @Test
  void aFileOfAnotherWriterIsRead(@TempDir Path tmp) throws IOException {
    // no metadata, no padding, tensors stored biases first (offsets out of name order), whitespace in the JSON
    LayerNet net = net();
    float[] p = net.params().toArray();
    ByteBuffer d = ByteBuffer.allocate(68).order(ByteOrder.LITTLE_ENDIAN);
    for (int i : new int[] {6, 7, 8, 15, 16}) { // b0, then b1
      d.putFloat(p[i]);
    }
    for (int i = 0; i < 6; i++) { // W0
      d.putFloat(p[i]);
    }
    for (int i = 9; i < 15; i++) { // W1
      d.putFloat(p[i]);
    }
    String h = "{ \"layers.1.weight\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [44, 68]},\n"
        + "  \"layers.0.bias\": {\"shape\": [3], \"dtype\": \"F32\", \"data_offsets\": [0, 12]},\n"
        + "  \"layers.1.bias\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [12, 20]},\n"
        + "  \"layers.0.weight\": {\"dtype\": \"F32\", \"shape\": [3, 2], \"data_offsets\": [20, 44]} }\n\t ";
    SafeTensors.Model m = SafeTensors.read(put(tmp, file(h, d.array())));
    assertThat(m.network().params().toArray()).containsExactly(p);
    assertThat(m.metadata()).isEmpty();
  }

  @Test
  void headerLengthOffByOneIsRefused(@TempDir Path tmp) throws IOException {
    Path f = tmp.resolve("m.safetensors");
    SafeTensors.write(net(), f, Map.of());
    byte[] b = Files.readAllBytes(f);
    long n = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, n - 1);
    Files.write(f, b);
    // the writer pads the header with spaces: one byte short leaves valid JSON and shifts the data by one byte
    assertThat(b[8 + (int) n - 1]).isEqualTo((byte) ' ');
    refused(f, "the tensors cover 68 bytes of the 69-byte data area");
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, n + 1);
    Files.write(f, b);
    assertThatThrownBy(() -> SafeTensors.read(f)).isInstanceOf(InvalidModelException.class);
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1);
    Files.write(f, b);
    refused(f, "header length 18446744073709551615 (bytes 0-7) is impossible");
    Files.write(f, new byte[] {1, 2, 3});
    refused(f, "too short for a safetensors file (3 bytes");
  }

  @Test
  void namesMustBeExactlyLayers0ToLMinus1(@TempDir Path tmp) throws IOException {
    byte[] d = data(net());
    refused(put(tmp, file(header("layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"), d)),
        "missing tensor 'layers.1.weight', but the file has layers up to 2");
    refused(put(tmp, file(header("layers.0.weight", "layers.0.bias", "layers.1.weighu", "layers.1.bias"), d)),
        "unexpected tensor 'layers.1.weighu'");
    refused(put(tmp, file(header("layers.0.weight", "layers.0.bias", "layers.01.weight", "layers.1.bias"), d)),
        "unexpected tensor 'layers.01.weight'");
    refused(put(tmp, file(header("layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.0.bias"), d)),
        "header is not one valid JSON object", "Duplicate field 'layers.0.bias'");
    // an extra tensor, even one that covers its bytes
    String extra = plain().substring(0, plain().length() - 1)
        + ",\"step\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[68,76]}}";
    refused(put(tmp, file(extra, java.util.Arrays.copyOf(d, 76))), "unexpected tensor 'step'");
    // a gap in the layer numbers (0, 1, 3)
    String gap = plain().substring(0, plain().length() - 1)
        + ",\"layers.3.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[68,84]},"
        + "\"layers.3.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[84,92]}}";
    refused(put(tmp, file(gap, java.util.Arrays.copyOf(d, 92))), "missing tensor 'layers.2.weight'");
  }

  @Test
  void offsetsMustTileTheDataAreaExactly(@TempDir Path tmp) throws IOException {
    byte[] d = data(net());
    refused(put(tmp, file(plain().replace("[60,68]", "[18446744073709551616,18446744073709551624]"), d)),
        "tensor 'layers.1.bias' has data_offsets [18446744073709551616,18446744073709551624], outside the 68-byte "
            + "data area");
    refused(put(tmp, file(plain().replace("[60,68]", "[-8,0]"), d)), "-8 is not a non-negative integer");
    refused(put(tmp, file(plain().replace("[60,68]", "[60.0,68]"), d)), "60.0 is not a non-negative integer");
    refused(put(tmp, file(plain().replace("[60,68]", "[56,64]"), d)), "tensor 'layers.1.bias' starts at data byte 56,"
        + " overlapping 'layers.1.weight', which ends at 60");
    refused(put(tmp, file(plain().replace("[60,68]", "[64,72]"), java.util.Arrays.copyOf(d, 72))),
        "starts at data byte 64, leaving a gap after 'layers.1.weight'");
    refused(put(tmp, file(plain(), java.util.Arrays.copyOf(d, 69))), "the tensors cover 68 bytes of the 69-byte");
    refused(put(tmp, file(plain(), java.util.Arrays.copyOf(d, 67))), "outside the 67-byte data area");
    refused(put(tmp, file(plain().replace("[60,68]", "[60,64]"), d)), "that is 8 bytes, but data_offsets [60,64] span 4");
  }

  @Test
  void headerMustBeOneJsonObjectOfKnownFields(@TempDir Path tmp) throws IOException {
    byte[] d = data(net());
    refused(put(tmp, file(" " + plain(), d)), "header must start with '{' at byte 8");
    refused(put(tmp, file(plain() + " x", d)), "header is not one valid JSON object");
    refused(put(tmp, file(plain() + "{}", d)), "header is not one valid JSON object");
    refused(put(tmp, file("[" + plain() + "]", d)), "header must start with '{'");
    refused(put(tmp, file(plain().replace("\"F32\",\"shape\":[2]", "\"F16\",\"shape\":[4]"), d)),
        "tensor 'layers.1.bias' has dtype F16, expected F32");
    refused(put(tmp, file(plain().replace("\"F32\",\"shape\":[2]", "\"F33\",\"shape\":[2]"), d)),
        "has dtype \"F33\", expected one of the safetensors dtypes");
    refused(put(tmp, file(plain().replace("\"shape\":[2]", "\"shape\":[2],\"extra\":1"), d)),
        "tensor 'layers.1.bias' has an unknown field 'extra'");
    refused(put(tmp, file(plain().replace("[3,2]", "[3,2.5]"), d)), "dimension 1 is 2.5");
    refused(put(tmp, file(plain().replace("[2,3]", "[3,2]"), d)), "tensor 'layers.1.weight' has 2 inputs, but "
        + "layers.0.weight has 3 outputs");
    refused(put(tmp, file(plain().replace("[3]", "[1,3]"), d)), "tensor 'layers.0.bias' has shape [1, 3], expected [3]");
    refused(put(tmp, file("{\"__metadata__\":{\"a\":1}," + plain().substring(1), d)),
        "__metadata__ value of 'a' must be a string, got NUMBER");
    refused(put(tmp, file("{\"__metadata__\":{\"pathsgd_widths\":\"2-4-2\"}," + plain().substring(1), d)),
        "__metadata__ pathsgd_widths is '2-4-2', but the tensors are 2-3-2");
    byte[] bad = file(plain(), d);
    bad[20] = (byte) 0xC3; // a lone UTF-8 lead byte inside a name
    refused(put(tmp, bad), "is not valid UTF-8");
    refused(put(tmp, file("{}", new byte[0])), "no tensors");
  }

  @Test
  void theDataChecksumCatchesAChangedWeight(@TempDir Path tmp) throws IOException {
    Path f = tmp.resolve("m.safetensors");
    SafeTensors.write(net(), f, Map.of());
    byte[] b = Files.readAllBytes(f);
    b[b.length - 3] ^= 1; // a low mantissa bit of the last bias: still a finite float
    Files.write(f, b);
    refused(f, "the data area's SHA-256 is ", "the file is damaged");
  }

  @Test
  void nonFiniteWeightsNeedTheOptIn(@TempDir Path tmp) throws IOException {
    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
      LayerNet net = net();
      net.params().set(net.chain().weightOffset(1) + 4, bad); // layers.1.weight[1, 1]
      Path f = tmp.resolve("m.safetensors");
      SafeTensors.write(net, f, Map.of());
      refused(f, "tensor 'layers.1.weight' element [1, 1] (byte ", ") is " + bad
          + "; non-finite weights are refused unless allowed (--allow-non-finite)");
      LayerNet back = SafeTensors.read(f, true).network();
      assertThat(Float.floatToRawIntBits(back.params().get(net.chain().weightOffset(1) + 4)))
          .isEqualTo(Float.floatToRawIntBits(bad));
    }
  }

  /** The 564-byte file of issue 11 declared gigabytes of tensors: it is refused before anything is allocated. */
  @Test
  void hugeDeclaredShapesAreRefusedWithoutAllocating(@TempDir Path tmp) throws IOException {
    String h = "{\"layers.0.weight\":{\"dtype\":\"F32\",\"shape\":[20000,20000],\"data_offsets\":[0,1600000000]},"
        + "\"layers.0.bias\":{\"dtype\":\"F32\",\"shape\":[20000],\"data_offsets\":[1600000000,1600080000]}}";
    Path f = put(tmp, file(h, new byte[564 - 8 - h.length()]));
    assertThat(Files.size(f)).isEqualTo(564);
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = mx.getCurrentThreadAllocatedBytes();
    refused(f, "tensor 'layers.0.weight' has data_offsets [0,1600000000], outside the ");
    assertThat(mx.getCurrentThreadAllocatedBytes() - before).isLessThan(4L << 20);
  }
}
