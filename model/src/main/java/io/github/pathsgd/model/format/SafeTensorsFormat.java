package io.github.pathsgd.model.format;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.pathsgd.core.tensor.Tensor;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The <a href="https://github.com/huggingface/safetensors">safetensors</a> format's rules, as the reference
 * implementation checks them, with no naming of tensors: an 8-byte little-endian header length N, N bytes of JSON
 * header (a writer pads it with spaces to a multiple of 8), then the raw little-endian tensor data.
 *
 * <p>Reading ({@link #readHeader}) is strict: the header length must fit in the file (and be at most {@link
 * #MAX_HEADER}); the header must be UTF-8 JSON, one object starting at its first byte, with only whitespace after it
 * and no duplicate keys; {@code __metadata__}, if present, maps strings to strings; every other entry is a tensor with
 * exactly {@code dtype} (a known safetensors dtype), {@code shape} (non-negative integers) and {@code data_offsets}
 * [begin, end] whose span is the shape's element count times the element size; the tensors, sorted by offset, cover
 * the data area exactly, without gap or overlap. Every failure is an {@link InvalidModelException} naming the file and
 * the field, tensor or byte at fault. Nothing is allocated before the sizes are checked against the file's real
 * length. Which tensors a model must hold, and under which names, is the caller's rule.
 *
 * <p>Writing ({@link #header}, {@link #write}): F32 tensors only, {@code __metadata__} first in the order the caller
 * gives (sorted, for bytes that do not depend on the process), then the tensors in the given order, their data
 * contiguous in that order.
 */
public final class SafeTensorsFormat {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper STRICT = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();
  /** Header size limit (the reference implementation uses 100 MB). */
  public static final long MAX_HEADER = 100L << 20;
  /** The safetensors dtypes and their sizes in bits. */
  public static final Map<String, Integer> DTYPE_BITS = Map.ofEntries(Map.entry("BOOL", 8), Map.entry("U8", 8),
      Map.entry("I8", 8), Map.entry("F8_E5M2", 8), Map.entry("F8_E4M3", 8), Map.entry("F8_E8M0", 8),
      Map.entry("I16", 16), Map.entry("U16", 16), Map.entry("F16", 16), Map.entry("BF16", 16), Map.entry("I32", 32),
      Map.entry("U32", 32), Map.entry("F32", 32), Map.entry("F64", 64), Map.entry("I64", 64), Map.entry("U64", 64),
      Map.entry("C64", 64), Map.entry("F4", 4), Map.entry("F6_E2M3", 6), Map.entry("F6_E3M2", 6));
  /** The fields of a tensor entry, exactly. */
  public static final Set<String> TENSOR_KEYS = Set.of("dtype", "shape", "data_offsets");

  private SafeTensorsFormat() {}

  /** One tensor entry of the header, checked against the format (offsets relative to the data area). */
  public record Entry(String name, String dtype, long[] shape, long begin, long end) {}

  /**
   * A header read and checked.
   *
   * @param metadata {@code __metadata__} in file order (empty when absent)
   * @param entries the tensors sorted by offset, which tile the data area exactly
   * @param dataStart the file offset of the data area
   * @param fileDigest the SHA-256 of the file so far (length and header); {@link #readF32} adds the tensors' bytes
   */
  public record Header(Map<String, String> metadata, List<Entry> entries, long dataStart, MessageDigest fileDigest) {}

  /** A tensor to write: its name and shape (F32). */
  public record Tensor32(String name, int[] shape) {}

  /** Reads and checks the header of the file open on {@code ch}; {@code file} names it in errors. */
  public static Header readHeader(SeekableByteChannel ch, Path file) throws IOException {
    long size = ch.size();
    if (size < 8) {
      throw new InvalidModelException(file, "too short for a safetensors file (" + size
          + " bytes; it starts with an 8-byte header length)");
    }
    ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, file, lenBuf, 0);
    long hlen = lenBuf.getLong(0);
    if (hlen <= 0 || hlen > size - 8 || hlen > MAX_HEADER) {
      throw new InvalidModelException(file, "header length " + Long.toUnsignedString(hlen) + " (bytes 0-7) is "
          + "impossible: expected 1.." + Math.min(size - 8, MAX_HEADER) + " for a file of " + size + " bytes");
    }
    ByteBuffer hb = ByteBuffer.allocate((int) hlen);
    readFully(ch, file, hb, 8);
    // the whole file's digest: the header here, then the tensors in offset order, which tile the data area exactly
    MessageDigest fileMd = sha256();
    fileMd.update(lenBuf.array());
    fileMd.update(hb.array());
    JsonNode header = parseHeader(file, hb.array());
    long dataStart = 8 + hlen;
    long dataLen = size - dataStart;
    Map<String, String> meta = new LinkedHashMap<>();
    List<Entry> entries = new ArrayList<>();
    Iterator<Map.Entry<String, JsonNode>> fields = header.fields();
    while (fields.hasNext()) {
      var f = fields.next();
      if (f.getKey().equals("__metadata__")) {
        metadata(file, f.getValue(), meta);
      } else {
        entries.add(entry(file, f.getKey(), f.getValue(), dataLen));
      }
    }
    coverage(file, entries, dataLen);
    return new Header(meta, entries, dataStart, fileMd);
  }

  private static JsonNode parseHeader(Path file, byte[] raw) throws IOException {
    String text;
    try {
      CharBuffer cb = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw));
      text = cb.toString();
    } catch (CharacterCodingException e) {
      throw new InvalidModelException(file, "header (bytes 8-" + (7 + raw.length) + ") is not valid UTF-8");
    }
    if (!text.startsWith("{")) {
      throw new InvalidModelException(file, "header must start with '{' at byte 8");
    }
    JsonNode header;
    try {
      header = STRICT.readTree(text);
    } catch (IOException e) {
      String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      int nl = msg.indexOf('\n');
      throw new InvalidModelException(file, "header is not one valid JSON object: "
          + (nl < 0 ? msg : msg.substring(0, nl)));
    }
    if (header == null || !header.isObject()) {
      throw new InvalidModelException(file, "header is not a JSON object");
    }
    return header;
  }

  private static void metadata(Path file, JsonNode m, Map<String, String> meta) throws IOException {
    if (!m.isObject()) {
      throw new InvalidModelException(file, "__metadata__ must be an object of strings, got " + m.getNodeType());
    }
    Iterator<Map.Entry<String, JsonNode>> it = m.fields();
    while (it.hasNext()) {
      var e = it.next();
      if (!e.getValue().isTextual()) {
        throw new InvalidModelException(file, "__metadata__ value of '" + e.getKey() + "' must be a string, got "
            + e.getValue().getNodeType());
      }
      meta.put(e.getKey(), e.getValue().textValue());
    }
  }

  /** Checks one header entry against the format (not against any naming). */
  private static Entry entry(Path file, String name, JsonNode t, long dataLen) throws IOException {
    String where = "tensor '" + name + "'";
    if (!t.isObject()) {
      throw new InvalidModelException(file, where + " must be an object with dtype, shape and data_offsets");
    }
    for (Iterator<String> it = t.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!TENSOR_KEYS.contains(k)) {
        throw new InvalidModelException(file, where + " has an unknown field '" + k
            + "' (expected dtype, shape, data_offsets)");
      }
    }
    JsonNode dt = t.get("dtype");
    if (dt == null || !dt.isTextual() || !DTYPE_BITS.containsKey(dt.textValue())) {
      throw new InvalidModelException(file, where + " has dtype " + dt + ", expected one of the safetensors dtypes "
          + new TreeMap<>(DTYPE_BITS).keySet());
    }
    JsonNode s = t.get("shape");
    if (s == null || !s.isArray()) {
      throw new InvalidModelException(file, where + " has shape " + s + ", expected an array of integers");
    }
    long[] shape = new long[s.size()];
    BigInteger count = BigInteger.ONE;
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = s.get(i);
      if (!d.isIntegralNumber() || d.bigIntegerValue().signum() < 0 || !d.canConvertToLong()) {
        throw new InvalidModelException(file, where + " has shape " + s + ": dimension " + i + " is " + d
            + ", expected a non-negative integer");
      }
      shape[i] = d.longValue();
      count = count.multiply(BigInteger.valueOf(shape[i]));
    }
    JsonNode o = t.get("data_offsets");
    if (o == null || !o.isArray() || o.size() != 2) {
      throw new InvalidModelException(file, where + " has data_offsets " + o + ", expected [begin, end]");
    }
    BigInteger begin = offset(file, where, o, 0);
    BigInteger end = offset(file, where, o, 1);
    BigInteger len = BigInteger.valueOf(dataLen);
    if (begin.compareTo(end) > 0 || end.compareTo(len) > 0) {
      throw new InvalidModelException(file, where + " has data_offsets " + o + ", outside the " + dataLen
          + "-byte data area (expected 0 <= begin <= end <= " + dataLen + ")");
    }
    BigInteger bits = count.multiply(BigInteger.valueOf(DTYPE_BITS.get(dt.textValue())));
    if (bits.mod(BigInteger.valueOf(8)).signum() != 0 || !bits.shiftRight(3).equals(end.subtract(begin))) {
      throw new InvalidModelException(file, where + " has shape " + s + " of " + dt.textValue() + ", that is "
          + bits.shiftRight(3) + " bytes, but data_offsets " + o + " span " + end.subtract(begin) + " bytes");
    }
    return new Entry(name, dt.textValue(), shape, begin.longValueExact(), end.longValueExact());
  }

  private static BigInteger offset(Path file, String where, JsonNode o, int i) throws IOException {
    JsonNode v = o.get(i);
    if (!v.isIntegralNumber() || v.bigIntegerValue().signum() < 0) {
      throw new InvalidModelException(file, where + " has data_offsets " + o + ": " + v
          + " is not a non-negative integer");
    }
    return v.bigIntegerValue();
  }

  /** The tensors, sorted by offset, must cover the data area exactly (the format requires it fully indexed). */
  private static void coverage(Path file, List<Entry> entries, long dataLen) throws IOException {
    entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    long at = 0;
    String prev = null;
    for (Entry e : entries) {
      if (e.begin() != at) {
        throw new InvalidModelException(file, "tensor '" + e.name() + "' starts at data byte " + e.begin()
            + (prev == null ? ", expected 0 (the first tensor starts the data area)"
                : (e.begin() > at ? ", leaving a gap after" : ", overlapping") + " '" + prev + "', which ends at "
                    + at));
      }
      at = e.end();
      prev = e.name();
    }
    if (at != dataLen) {
      throw new InvalidModelException(file, "the tensors cover " + at + " bytes of the " + dataLen
          + "-byte data area (the header length or an offset is wrong, or bytes were added or removed)");
    }
  }

  /**
   * Reads one tensor (F32, or F64/F16/BF16 converted to float32: F64 rounded to nearest, F16 and BF16 exactly) into
   * {@code dst} at {@code dstOff}, checking finiteness (an F64 value beyond the float32 range counts as infinite) and
   * updating the digests.
   *
   * @param cols the elements per row for error messages ({@code [row, col]}), 0 to print a flat index
   */
  public static void readF32(SeekableByteChannel ch, Path file, Entry e, long dataStart, Tensor dst, int dstOff,
      int cols, boolean allowNonFinite, MessageDigest md, MessageDigest fileMd) throws IOException {
    int size = DTYPE_BITS.get(e.dtype()) / 8;
    int count = (int) ((e.end() - e.begin()) / size);
    ByteBuffer bb = ByteBuffer.allocate(Math.min(1 << 20, Math.max(8, size * count))).order(ByteOrder.LITTLE_ENDIAN);
    float[] f = new float[bb.capacity() / 8];
    for (int from = 0; from < count; from += f.length) {
      int n = Math.min(f.length, count - from);
      bb.clear().limit(size * n);
      readFully(ch, file, bb, dataStart + e.begin() + (long) size * from);
      md.update(bb.array(), 0, size * n);
      fileMd.update(bb.array(), 0, size * n);
      for (int i = 0; i < n; i++) {
        double wide = Double.NaN;
        switch (e.dtype()) {
          case "F32" -> f[i] = bb.getFloat(4 * i);
          case "F64" -> {
            wide = bb.getDouble(8 * i);
            f[i] = (float) wide;
          }
          case "F16" -> f[i] = halfToFloat(bb.getShort(2 * i));
          case "BF16" -> f[i] = Float.intBitsToFloat((bb.getShort(2 * i) & 0xffff) << 16);
          default -> throw new IllegalStateException(e.dtype());
        }
        if (!allowNonFinite && !Float.isFinite(f[i])) {
          int k = from + i;
          String idx = cols > 0 ? "[" + k / cols + ", " + k % cols + "]" : "[" + k + "]";
          throw new InvalidModelException(file, "tensor '" + e.name() + "' element " + idx + " (byte "
              + (dataStart + e.begin() + (long) size * k) + ") is " + (Double.isFinite(wide) ? wide
                  + ", outside the float32 range (|x| <= " + Float.MAX_VALUE + ")" : Double.isNaN(wide) ? f[i]
                      : wide) + "; non-finite weights are refused" + (e.dtype().equals("F32") ? " unless allowed "
                          + "(--allow-non-finite)" : ""));
        }
      }
      dst.copyFrom(f, 0, dstOff + from, n);
    }
  }

  /** IEEE 754 binary16 to float32, exactly (every half is a float): normal, subnormal, zero, infinity, NaN. */
  public static float halfToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits >>> 15) << 31;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) { // zero or subnormal: mant · 2^-24
      float v = mant * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  private static void readFully(SeekableByteChannel ch, Path file, ByteBuffer b, long pos) throws IOException {
    long start = pos - b.position();
    while (b.hasRemaining()) {
      ch.position(start + b.position());
      int n = ch.read(b);
      if (n < 0) {
        throw new InvalidModelException(file, "unexpected end of file at byte " + (start + b.position()));
      }
    }
  }

  /**
   * The header of a file of F32 tensors: {@code __metadata__} (in {@code metadata}'s iteration order), then the
   * tensors in the given order with contiguous offsets; padded with spaces to a multiple of 8 bytes.
   *
   * @return the padded header bytes (without the 8-byte length) and, through {@link #dataBytes}, the data length
   */
  public static byte[] header(Map<String, String> metadata, List<Tensor32> tensors) {
    ObjectNode header = JSON.createObjectNode();
    ObjectNode metaNode = header.putObject("__metadata__");
    metadata.forEach(metaNode::put);
    long off = 0;
    for (Tensor32 t : tensors) {
      ObjectNode e = header.putObject(t.name());
      e.put("dtype", "F32");
      var s = e.putArray("shape");
      long n = 1;
      for (int d : t.shape()) {
        s.add(d);
        n *= d;
      }
      var o = e.putArray("data_offsets");
      o.add(off);
      o.add(off + 4 * n);
      off += 4 * n;
    }
    byte[] h;
    try {
      h = JSON.writeValueAsBytes(header);
    } catch (IOException ex) {
      throw new IllegalStateException(ex);
    }
    byte[] hp = new byte[(h.length + 7) / 8 * 8];
    Arrays.fill(hp, (byte) ' ');
    System.arraycopy(h, 0, hp, 0, h.length);
    return hp;
  }

  /** The data bytes of F32 tensors of these shapes. */
  public static long dataBytes(List<Tensor32> tensors) {
    long off = 0;
    for (Tensor32 t : tensors) {
      long n = 1;
      for (int d : t.shape()) {
        n *= d;
      }
      off += 4 * n;
    }
    return off;
  }

  /**
   * Writes a file: the header length, the padded {@code header}, then {@code data}'s floats little-endian, which must
   * be exactly {@code dataBytes} bytes.
   */
  public static void write(OutputStream out, byte[] header, Tensor data, long dataBytes) throws IOException {
    ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
    out.write(len.array());
    out.write(header);
    long[] written = {0};
    forEachChunk(data, (b, n) -> {
      out.write(b, 0, n);
      written[0] += n;
    });
    if (written[0] != dataBytes) {
      throw new IOException("wrote " + written[0] + " data bytes, header says " + dataBytes);
    }
  }

  private interface Chunk {
    void accept(byte[] b, int n) throws IOException;
  }

  /** Feeds the floats as little-endian bytes, 1 MiB at a time. */
  private static void forEachChunk(Tensor p, Chunk sink) throws IOException {
    ByteBuffer chunk = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    float[] f = new float[chunk.capacity() / 4];
    for (int from = 0; from < p.size(); from += f.length) {
      int n = Math.min(f.length, p.size() - from);
      p.buffer().get(from, f, 0, n);
      chunk.clear();
      chunk.asFloatBuffer().put(f, 0, n);
      sink.accept(chunk.array(), 4 * n);
    }
  }

  /** The SHA-256 (lowercase hex) of {@code p}'s floats as little-endian bytes: of the data area it is written to. */
  public static String dataSha256(Tensor p) {
    MessageDigest md = sha256();
    try {
      forEachChunk(p, (b, n) -> md.update(b, 0, n));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** A new SHA-256 digest. */
  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
