package io.github.pathsgd.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.model.format.InvalidModelException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code SafeTensors.readInit}: the dtypes an initial model may hold, converted to float32 byte for byte as worked
 * out by hand, PyTorch {@code nn.Sequential} names and their refusals, on files the test writes.
 */
class InitModelReaderTest {
  /** One tensor of a file the test writes: its name, dtype, shape and raw little-endian bytes. */
  record T(String name, String dtype, long[] shape, byte[] bytes) {}

  static byte[] file(List<T> ts) {
    StringBuilder h = new StringBuilder("{");
    long off = 0;
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    for (T t : ts) {
      h.append(h.length() > 1 ? "," : "").append('"').append(t.name()).append("\":{\"dtype\":\"").append(t.dtype())
          .append("\",\"shape\":").append(java.util.Arrays.toString(t.shape()).replace(" ", ""))
          .append(",\"data_offsets\":[").append(off).append(',').append(off + t.bytes().length).append("]}");
      off += t.bytes().length;
      data.writeBytes(t.bytes());
    }
    return SafeTensorsTest.file(h.append('}').toString(), data.toByteArray());
  }

  static byte[] f32(float... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      b.putFloat(x);
    }
    return b.array();
  }

  static byte[] f64(double... v) {
    ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (double x : v) {
      b.putDouble(x);
    }
    return b.array();
  }

  /** 16-bit patterns, little-endian. */
  static byte[] u16(int... v) {
    ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int x : v) {
      b.putShort((short) x);
    }
    return b.array();
  }

  static long[] s(long... d) {
    return d;
  }

  /** A 2-3-2 network in nn.Sequential names 0 and 2 (a ReLU at 1), all in one dtype. */
  static List<T> sequential(String dtype, byte[] w0, byte[] b0, byte[] w1, byte[] b1) {
    return List.of(new T("0.weight", dtype, s(3, 2), w0), new T("0.bias", dtype, s(3), b0),
        new T("2.weight", dtype, s(2, 3), w1), new T("2.bias", dtype, s(2), b1));
  }

  static SafeTensors.InitModel read(Path dir, byte[] bytes) throws IOException {
    Path f = dir.resolve("m.safetensors");
    Files.write(f, bytes);
    return SafeTensors.readInit(f);
  }

  static void refused(Path dir, byte[] bytes, String... parts) throws IOException {
    Path f = dir.resolve("bad.safetensors");
    Files.write(f, bytes);
    assertThatThrownBy(() -> SafeTensors.readInit(f)).isInstanceOf(InvalidModelException.class)
        .hasMessageStartingWith(f + ": ").hasMessageContainingAll(parts);
  }

  static float[] params(SafeTensors.InitModel m) {
    return m.network().params().toArray();
  }

  @Test
  void f64SequentialNamesRoundToNearestEven(@TempDir Path tmp) throws Exception {
    // 1 + 2^-24 is half an ulp above 1: a tie, to the even 1; 1 + 3·2^-24 is 1.5 ulps: a tie, to the even 1 + 2^-22;
    // 0.1 rounds to the float 13421773·2^-27 = 0.100000001490116119384765625; 1e-50 underflows to 0
    byte[] bytes = file(sequential("F64", f64(1 + 0x1p-24, 1 + 3 * 0x1p-24, 0.1, -2.5, 1e-50, 3.0),
        f64(0.25, -0.5, 0), f64(1, 2, 3, 4, 5, 6), f64(-1, 1)));
    SafeTensors.InitModel m = read(tmp, bytes);
    assertThat(m.network().chain().widths()).containsExactly(2, 3, 2);
    assertThat(params(m)).containsExactly(1f, 1 + 0x1p-22f, Float.intBitsToFloat(0x3DCCCCCD), -2.5f, 0f, 3f,
        0.25f, -0.5f, 0f, 1, 2, 3, 4, 5, 6, -1, 1);
    assertThat((double) Float.intBitsToFloat(0x3DCCCCCD)).isEqualTo(0.100000001490116119384765625);
    assertThat(m.mapping()).isEqualTo("PyTorch nn.Sequential names (0, 2 -> layers 0, 1), F64 converted to float32");
    assertThat(m.sha256()).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
  }

  @Test
  void f16IsReadExactlyWithSubnormalsAndSignedZero(@TempDir Path tmp) throws IOException {
    // 0x3C00 = 1; 0x3555 = (1 + 341/1024)/4 = 0.333251953125; 0x0001 = 2^-24 (smallest subnormal); 0x03FF = 1023·2^-24
    // (largest subnormal); 0x7BFF = (2 - 2^-10)·2^15 = 65504 (largest half); 0xC000 = -2; 0x8000 = -0; 0x3800 = 0.5
    byte[] bytes = file(sequential("F16", u16(0x3C00, 0x3555, 0x0001, 0x03FF, 0x7BFF, 0xC000),
        u16(0x8000, 0x3800, 0x0000), u16(0x3C00, 0x3C00, 0x3C00, 0x3C00, 0x3C00, 0x3C00), u16(0x3800, 0xB800)));
    float[] p = params(read(tmp, bytes));
    assertThat(p).containsExactly(1f, 0.333251953125f, 0x1p-24f, 1023 * 0x1p-24f, 65504f, -2f, -0f, 0.5f, 0f,
        1, 1, 1, 1, 1, 1, 0.5f, -0.5f);
    assertThat(Float.floatToRawIntBits(p[6])).isEqualTo(0x80000000); // -0, not +0
    assertThat(read(tmp, bytes).mapping()).endsWith(", F16 converted to float32");
  }

  @Test
  void bf16IsTheUpperHalfOfAFloat(@TempDir Path tmp) throws IOException {
    // 0x3F80 = 1; 0x3EAB = (1 + 43/128)/4 = 0.333984375; 0xC2F7 = -(1 + 119/128)·64 = -123.5; 0x0001 = 2^-133 (a float
    // subnormal: bits 0x00010000 = 65536·2^-149); 0x7F7F = (2 - 2^-7)·2^127 = 3.3895313892515355e38
    byte[] bytes = file(sequential("BF16", u16(0x3F80, 0x3EAB, 0xC2F7, 0x0001, 0x7F7F, 0x0000),
        u16(0x3F80, 0x3F80, 0x3F80), u16(0x3F80, 0x3F80, 0x3F80, 0x3F80, 0x3F80, 0x3F80), u16(0x3F80, 0xBF80)));
    float[] p = params(read(tmp, bytes));
    assertThat(p).containsExactly(1f, 0.333984375f, -123.5f, 0x1p-133f, 3.3895313892515355e38f, 0f, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, -1);
    assertThat((double) p[4]).isEqualTo(3.3895313892515355e38);
  }

  @Test
  void f32AndMixedDtypesInPathsgdNames(@TempDir Path tmp) throws IOException {
    List<T> ts = List.of(new T("layers.0.weight", "F32", s(3, 2), f32(1, 2, 3, 4, 5, 6)),
        new T("layers.0.bias", "F16", s(3), u16(0x3C00, 0x3800, 0x0000)),
        new T("layers.1.weight", "BF16", s(2, 3), u16(0x3F80, 0x3F80, 0x3F80, 0x3F80, 0x3F80, 0xBF80)),
        new T("layers.1.bias", "F64", s(2), f64(0.1, -0.1)));
    SafeTensors.InitModel m = read(tmp, file(ts));
    assertThat(params(m)).containsExactly(1, 2, 3, 4, 5, 6, 1, 0.5f, 0, 1, 1, 1, 1, 1, -1, 0.1f, -0.1f);
    assertThat(m.mapping()).isEqualTo("pathsgd names (layers.0..1), F16, BF16, F64 converted to float32");
    // the strict reader of pathsgd's own models still takes F32 only
    Path f = tmp.resolve("m.safetensors");
    assertThatThrownBy(() -> SafeTensors.read(f)).hasMessageContaining("tensor 'layers.0.bias' has dtype F16, "
        + "expected F32");
  }

  @Test
  void aModelWrittenByPathsgdReadsBackWithTheFileDigest(@TempDir Path tmp) throws Exception {
    LayerNet net = SafeTensorsTest.net();
    Path f = tmp.resolve("w.safetensors");
    SafeTensors.write(net, f, Map.of());
    SafeTensors.InitModel m = SafeTensors.readInit(f);
    assertThat(params(m)).containsExactly(net.params().toArray());
    assertThat(m.mapping()).isEqualTo("pathsgd names (layers.0..1), F32");
    assertThat(m.sha256()).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(Files.readAllBytes(f))));
  }

  @Test
  void sequentialGapsMapInIndexOrder(@TempDir Path tmp) throws IOException {
    // modules 1, 4, 10 (Dropout/ReLU between them), listed out of order in the header: 2-3-2-1
    List<T> ts = new ArrayList<>(List.of(new T("10.weight", "F32", s(1, 2), f32(7, 8)),
        new T("10.bias", "F32", s(1), f32(9)), new T("1.weight", "F32", s(3, 2), f32(1, 2, 3, 4, 5, 6)),
        new T("1.bias", "F32", s(3), f32(0, 0, 1)), new T("4.weight", "F32", s(2, 3), f32(1, 0, 0, 0, 1, 0)),
        new T("4.bias", "F32", s(2), f32(-1, -2))));
    SafeTensors.InitModel m = read(tmp, file(ts));
    assertThat(m.network().chain().widths()).containsExactly(2, 3, 2, 1);
    assertThat(params(m)).containsExactly(1, 2, 3, 4, 5, 6, 0, 0, 1, 1, 0, 0, 0, 1, 0, -1, -2, 7, 8, 9);
    assertThat(m.mapping()).isEqualTo("PyTorch nn.Sequential names (1, 4, 10 -> layers 0, 1, 2), F32");
  }

  @Test
  void refusals(@TempDir Path tmp) throws IOException {
    byte[] w0 = f32(1, 2, 3, 4, 5, 6);
    byte[] b0 = f32(0, 0, 0);
    byte[] w1 = f32(1, 2, 3, 4, 5, 6);
    byte[] b1 = f32(0, 0);
    // a Linear without its bias (bias=False is not supported)
    refused(tmp, file(List.of(new T("0.weight", "F32", s(3, 2), w0), new T("2.weight", "F32", s(2, 3), w1),
        new T("2.bias", "F32", s(2), b1))), "nn.Sequential module 0 has '0.weight' but no '0.bias'");
    // shapes that do not chain: 2.weight takes 2 inputs, 0.weight gives 3 outputs
    refused(tmp, file(List.of(new T("0.weight", "F32", s(3, 2), w0), new T("0.bias", "F32", s(3), b0),
        new T("2.weight", "F32", s(3, 2), w1), new T("2.bias", "F32", s(3), b0))),
        "tensor '2.weight' has 2 inputs, but '0.weight' has 3 outputs");
    // a bias of the wrong length
    refused(tmp, file(List.of(new T("0.weight", "F32", s(3, 2), w0), new T("0.bias", "F32", s(2), b1))),
        "tensor '0.bias' has shape [2], expected [3]");
    // mixed naming
    refused(tmp, file(List.of(new T("0.weight", "F32", s(3, 2), w0), new T("0.bias", "F32", s(3), b0),
        new T("layers.1.weight", "F32", s(2, 3), w1), new T("layers.1.bias", "F32", s(2), b1))),
        "mixes pathsgd names ('layers.1.weight') and nn.Sequential names ('0.weight')");
    // other names (a state dict of another module) and dtypes
    refused(tmp, file(List.of(new T("fc1.weight", "F32", s(3, 2), w0))), "unexpected tensor 'fc1.weight'");
    refused(tmp, file(sequential("I32", w0, b0, w1, b1)), "tensor '0.weight' has dtype I32, expected one of [F32, "
        + "F64, F16, BF16]");
    // F64 beyond the float range, and non-finite values, named by tensor and element
    byte[] zeros = f64(0, 0, 0, 0, 0, 0);
    refused(tmp, file(sequential("F64", zeros, f64(0, 0, 0), f64(0, 0, 0, 0, 3.5e38, 0), f64(0, 0))),
        "tensor '2.weight' element [1, 1]", "is 3.5E38, outside the float32 range");
    refused(tmp, file(sequential("F64", zeros, f64(0, Double.NaN, 0), zeros, f64(0, 0))),
        "tensor '0.bias' element [1]", "is NaN; non-finite weights are refused");
    refused(tmp, file(sequential("F16", u16(0, 0, 0, 0x7C00, 0, 0), u16(0, 0, 0), u16(0, 0, 0, 0, 0, 0),
        u16(0, 0))), "tensor '0.weight' element [1, 1]", "is Infinity");
    // the format's own rules still hold: the header must tile the data area
    byte[] ok = file(sequential("F32", w0, b0, w1, b1));
    refused(tmp, java.util.Arrays.copyOf(ok, ok.length + 1), "the tensors cover 68 bytes of the 69-byte data area");
    assertThat(new String(ok, 8, 20, StandardCharsets.UTF_8)).startsWith("{\"0.weight\"");
  }
}
