package io.github.pathsgd.experiments.io;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.pathsgd.core.nn.Mlp;
import io.github.pathsgd.core.nn.ParamLayout;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.train.io.AtomicFiles;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Networks in the <a href="https://github.com/huggingface/safetensors">safetensors</a> format, readable by the standard
 * readers ({@code safetensors.torch.load_file}, {@code safetensors.numpy.load_file}).
 *
 * <p>Layout: an 8-byte little-endian header length N, N bytes of JSON header (padded with spaces to a multiple of
 * 8), then the raw little-endian tensor data. Tensor names are {@code layers.{i}.weight} (F32, shape [out, in], as
 * PyTorch's {@code nn.Linear}) and {@code layers.{i}.bias} (F32, shape [out]), i = 0 for the first layer. The
 * {@code __metadata__} map records the format name, the widths ({@code pathsgd_widths}), the SHA-256 of the data area
 * ({@code pathsgd_data_sha256}) and any caller metadata (strings only, as the format requires).
 *
 * <p>Reading is strict (the format's rules as the reference implementation checks them, and pathsgd's own): the
 * header length must fit in the file; the header must be UTF-8 JSON, one object starting at its first byte, with only
 * whitespace after it and no duplicate keys; {@code __metadata__}, if present, maps strings to strings; every other
 * entry is a tensor with exactly {@code dtype} (a known safetensors dtype), {@code shape} (non-negative integers) and
 * {@code data_offsets} [begin, end] whose span is the shape's element count times the element size; the tensors,
 * sorted by offset, cover the data area exactly, without gap or overlap. On top, a pathsgd model holds exactly
 * {@code layers.0..L-1.weight/.bias} in F32, whose shapes chain, nothing else; {@code pathsgd_widths} and {@code
 * pathsgd_data_sha256}, when present, must agree with the tensors; and every weight must be finite unless the caller
 * allows otherwise. Every failure is a {@link InvalidModelException} naming the file and the field, tensor or byte at
 * fault. Nothing is allocated before the sizes are checked against the file's real length.
 */
public final class SafeTensors {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper STRICT = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();
  /** Header size limit (the reference implementation uses 100 MB). */
  private static final long MAX_HEADER = 100L << 20;
  /** Metadata key of the data area's SHA-256 (lowercase hex), written by {@link #write} and checked by the reader. */
  public static final String DATA_SHA256 = "pathsgd_data_sha256";
  /** Metadata key of the widths n_0-n_1-...-n_L. */
  public static final String WIDTHS = "pathsgd_widths";
  private static final Pattern NAME = Pattern.compile("layers\\.(0|[1-9][0-9]{0,8})\\.(weight|bias)");
  private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
  /** The safetensors dtypes and their sizes in bits. */
  private static final Map<String, Integer> DTYPE_BITS = Map.ofEntries(Map.entry("BOOL", 8), Map.entry("U8", 8),
      Map.entry("I8", 8), Map.entry("F8_E5M2", 8), Map.entry("F8_E4M3", 8), Map.entry("F8_E8M0", 8),
      Map.entry("I16", 16), Map.entry("U16", 16), Map.entry("F16", 16), Map.entry("BF16", 16), Map.entry("I32", 32),
      Map.entry("U32", 32), Map.entry("F32", 32), Map.entry("F64", 64), Map.entry("I64", 64), Map.entry("U64", 64),
      Map.entry("C64", 64), Map.entry("F4", 4), Map.entry("F6_E2M3", 6), Map.entry("F6_E3M2", 6));
  private static final Set<String> TENSOR_KEYS = Set.of("dtype", "shape", "data_offsets");

  private SafeTensors() {}

  /** A model file that breaks the format or pathsgd's rules; the message names the file and what is wrong. */
  public static final class InvalidModelException extends IOException {
    private static final long serialVersionUID = 1L;

    InvalidModelException(Path file, String what) {
      super(file + ": " + what);
    }
  }

  /** Writes {@code net} to {@code file} atomically. */
  public static void write(Mlp net, Path file, Map<String, String> metadata) {
    ParamLayout lay = net.layout();
    ObjectNode header = JSON.createObjectNode();
    ObjectNode meta = header.putObject("__metadata__");
    meta.put("format", "pt");
    if (metadata != null) {
      metadata.forEach(meta::put);
    }
    meta.put(WIDTHS, lay.toString());
    meta.put(DATA_SHA256, dataSha256(net.params()));
    long off = 0;
    for (int l = 0; l < lay.layers(); l++) {
      off = entry(header, "layers." + l + ".weight", new int[] {lay.out(l), lay.in(l)}, off);
      off = entry(header, "layers." + l + ".bias", new int[] {lay.out(l)}, off);
    }
    byte[] h;
    try {
      h = JSON.writeValueAsBytes(header);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    int padded = (h.length + 7) / 8 * 8;
    byte[] hp = new byte[padded];
    java.util.Arrays.fill(hp, (byte) ' ');
    System.arraycopy(h, 0, hp, 0, h.length);
    final long dataBytes = off;
    AtomicFiles.write(file, out -> {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
      out.write(len.array());
      out.write(hp);
      long[] written = {0};
      // the flat parameter order W0, b0, W1, b1, ... is exactly the data order above
      forEachChunk(net.params(), (b, n) -> {
        out.write(b, 0, n);
        written[0] += n;
      });
      if (written[0] != dataBytes) {
        throw new IOException("wrote " + written[0] + " data bytes, header says " + dataBytes);
      }
    });
  }

  private interface Chunk {
    void accept(byte[] b, int n) throws IOException;
  }

  /** Feeds the parameters as little-endian bytes, 1 MiB at a time. */
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

  private static String dataSha256(Tensor p) {
    MessageDigest md = sha256();
    try {
      forEachChunk(p, (b, n) -> md.update(b, 0, n));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long entry(ObjectNode header, String name, int[] shape, long off) {
    ObjectNode t = header.putObject(name);
    t.put("dtype", "F32");
    var s = t.putArray("shape");
    long n = 1;
    for (int d : shape) {
      s.add(d);
      n *= d;
    }
    var o = t.putArray("data_offsets");
    o.add(off);
    o.add(off + 4 * n);
    return off + 4 * n;
  }

  /** A network read back, with the file's metadata. */
  public record Model(Mlp network, Map<String, String> metadata) {}

  /** One tensor entry of the header, checked against the format. */
  private record Entry(String name, String dtype, long[] shape, long begin, long end) {}

  /** {@link #read(Path, boolean)} refusing non-finite weights. */
  public static Model read(Path file) throws IOException {
    return read(file, false);
  }

  /**
   * Reads a network written by {@link #write} or by any tool that uses the same names (for example a PyTorch
   * {@code nn.Sequential} state dict renamed to {@code layers.i.*}), checking everything listed in the class comment.
   *
   * @param allowNonFinite whether NaN and infinite weights are accepted (by default they are refused: a model that
   *     holds them is almost always the result of a diverged run or a damaged file)
   * @throws InvalidModelException if the file breaks the format or pathsgd's rules
   * @throws IOException if the file cannot be read
   */
  public static Model read(Path file, boolean allowNonFinite) throws IOException {
    io.github.pathsgd.data.InputFiles.requireRegular(file, "model"); // a FIFO would block on open, a device never end
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return read(ch, file, allowNonFinite);
    }
  }

  /** {@link #read(Path, boolean)} on an open channel; {@code file} names it in errors (tests read from memory). */
  static Model read(SeekableByteChannel ch, Path file, boolean allowNonFinite) throws IOException {
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
    ParamLayout lay = layout(file, entries);
    String widths = meta.get(WIDTHS);
    if (widths != null && !widths.equals(lay.toString())) {
      throw new InvalidModelException(file, "__metadata__ " + WIDTHS + " is '" + widths + "', but the tensors are "
          + lay);
    }
    String sha = meta.get(DATA_SHA256);
    if (sha != null && !HEX64.matcher(sha).matches()) {
      throw new InvalidModelException(file, "__metadata__ " + DATA_SHA256 + " is '" + sha
          + "', expected 64 lowercase hex digits");
    }
    // the data area holds exactly the parameters (coverage + names), so this allocation is bounded by the file
    Mlp net = new Mlp(lay);
    MessageDigest md = sha256();
    for (Entry e : entries) { // in file order, for the digest
      Matcher m = NAME.matcher(e.name());
      m.matches();
      int l = Integer.parseInt(m.group(1));
      boolean weight = m.group(2).equals("weight");
      load(ch, file, e, dataStart, net.params(), weight ? lay.weightOffset(l) : lay.biasOffset(l),
          weight ? lay.in(l) : 0, allowNonFinite, md);
    }
    if (sha != null) {
      String actual = HexFormat.of().formatHex(md.digest());
      if (!actual.equals(sha)) {
        throw new InvalidModelException(file, "the data area's SHA-256 is " + actual + ", but __metadata__ "
            + DATA_SHA256 + " says " + sha + ": the file is damaged");
      }
    }
    return new Model(net, meta);
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

  /** Checks one header entry against the format (not yet against pathsgd's names). */
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

  /** Checks the names, dtypes and shapes of a pathsgd model and returns its layout. */
  private static ParamLayout layout(Path file, List<Entry> entries) throws IOException {
    Map<String, Entry> byName = new TreeMap<>();
    int layers = 0;
    for (Entry e : entries) {
      Matcher m = NAME.matcher(e.name());
      if (!m.matches()) {
        throw new InvalidModelException(file, "unexpected tensor '" + e.name() + "' (a pathsgd model holds exactly "
            + "layers.{i}.weight and layers.{i}.bias for i = 0..L-1)");
      }
      if (!e.dtype().equals("F32")) {
        throw new InvalidModelException(file, "tensor '" + e.name() + "' has dtype " + e.dtype()
            + ", expected F32");
      }
      layers = Math.max(layers, Integer.parseInt(m.group(1)) + 1);
      byName.put(e.name(), e);
    }
    if (entries.isEmpty()) {
      throw new InvalidModelException(file, "no tensors (expected layers.{i}.weight and layers.{i}.bias)");
    }
    // every layer has two tensors, so a file of n tensors numbers its layers below n / 2 (this bounds the allocation)
    int[] widths = new int[Math.min(layers, entries.size() / 2) + 1];
    for (int l = 0; l < layers; l++) {
      String wn = "layers." + l + ".weight";
      String bn = "layers." + l + ".bias";
      Entry w = byName.get(wn);
      Entry b = byName.get(bn);
      if (w == null || b == null || l >= widths.length - 1) {
        throw new InvalidModelException(file, "missing tensor '" + (w == null ? wn : bn) + "', but the file has "
            + "layers up to " + (layers - 1) + " (layers must be numbered 0..L-1 without gaps)");
      }
      if (w.shape().length != 2 || w.shape()[0] < 1 || w.shape()[1] < 1 || w.shape()[0] > Integer.MAX_VALUE
          || w.shape()[1] > Integer.MAX_VALUE) {
        throw new InvalidModelException(file, "tensor '" + wn + "' has shape " + java.util.Arrays.toString(w.shape())
            + ", expected [out, in] of positive ints");
      }
      int out = (int) w.shape()[0];
      int in = (int) w.shape()[1];
      if (l == 0) {
        widths[0] = in;
      } else if (in != widths[l]) {
        throw new InvalidModelException(file, "tensor '" + wn + "' has " + in + " inputs, but layers." + (l - 1)
            + ".weight has " + widths[l] + " outputs");
      }
      if (b.shape().length != 1 || b.shape()[0] != out) {
        throw new InvalidModelException(file, "tensor '" + bn + "' has shape " + java.util.Arrays.toString(b.shape())
            + ", expected [" + out + "]");
      }
      widths[l + 1] = out;
    }
    try {
      return new ParamLayout(widths);
    } catch (IllegalArgumentException e) {
      throw new InvalidModelException(file, e.getMessage());
    }
  }

  /** Reads one F32 tensor into {@code dst} at {@code dstOff}, checking finiteness and updating the digest. */
  private static void load(SeekableByteChannel ch, Path file, Entry e, long dataStart, Tensor dst, int dstOff, int cols,
      boolean allowNonFinite, MessageDigest md) throws IOException {
    int count = (int) ((e.end() - e.begin()) / 4);
    ByteBuffer bb = ByteBuffer.allocate(Math.min(1 << 20, Math.max(4, 4 * count))).order(ByteOrder.LITTLE_ENDIAN);
    float[] f = new float[bb.capacity() / 4];
    for (int from = 0; from < count; from += f.length) {
      int n = Math.min(f.length, count - from);
      bb.clear().limit(4 * n);
      readFully(ch, file, bb, dataStart + e.begin() + 4L * from);
      md.update(bb.array(), 0, 4 * n);
      bb.flip();
      bb.asFloatBuffer().get(f, 0, n);
      if (!allowNonFinite) {
        for (int i = 0; i < n; i++) {
          if (!Float.isFinite(f[i])) {
            int k = from + i;
            String idx = cols > 0 ? "[" + k / cols + ", " + k % cols + "]" : "[" + k + "]";
            throw new InvalidModelException(file, "tensor '" + e.name() + "' element " + idx + " (byte "
                + (dataStart + e.begin() + 4L * k) + ") is " + f[i] + "; non-finite weights are refused unless "
                + "allowed (--allow-non-finite)");
          }
        }
      }
      dst.copyFrom(f, 0, dstOff + from, n);
    }
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
}
