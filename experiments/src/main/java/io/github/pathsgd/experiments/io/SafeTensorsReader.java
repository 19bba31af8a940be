package io.github.pathsgd.experiments.io;

import static io.github.pathsgd.experiments.io.SafeTensors.DATA_SHA256;
import static io.github.pathsgd.experiments.io.SafeTensors.DTYPE_BITS;
import static io.github.pathsgd.experiments.io.SafeTensors.HEX64;
import static io.github.pathsgd.experiments.io.SafeTensors.MAX_HEADER;
import static io.github.pathsgd.experiments.io.SafeTensors.NAME;
import static io.github.pathsgd.experiments.io.SafeTensors.SEQUENTIAL;
import static io.github.pathsgd.experiments.io.SafeTensors.STRICT;
import static io.github.pathsgd.experiments.io.SafeTensors.TENSOR_KEYS;
import static io.github.pathsgd.experiments.io.SafeTensors.WIDTHS;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.LayerSpec;
import io.github.pathsgd.core.nn.Mlp;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.nn.ParamLayout;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.experiments.io.SafeTensors.InvalidModelException;
import io.github.pathsgd.experiments.io.SafeTensors.Model;
import java.io.IOException;
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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;

/** The checking reader of {@link SafeTensors}: every rule of its class comment, one by one. */
final class SafeTensorsReader {
  private SafeTensorsReader() {}

  /** One tensor entry of the header, checked against the format. */
  private record Entry(String name, String dtype, long[] shape, long begin, long end) {}

  /** Where a tensor goes: layer l's weight or bias. */
  private record Slot(int layer, boolean weight) {}

  /** The layout of a model and where each of its tensors goes, with the naming in words. */
  private record Mapping(ParamLayout layout, Map<String, Slot> slots, String names) {}

  /** The dtypes an initial model may hold (converted to float32); a pathsgd model is F32 only. */
  static final List<String> INIT_DTYPES = List.of("F32", "F64", "F16", "BF16");

  /** {@link #read(Path, boolean)} on an open channel; {@code file} names it in errors (tests read from memory). */
  static Model read(SeekableByteChannel ch, Path file, boolean allowNonFinite) throws IOException {
    Loaded l = load(ch, file, allowNonFinite, false);
    return new Model(l.network(), l.metadata());
  }

  /**
   * A model read for {@code train --init-model}: pathsgd or PyTorch {@code nn.Sequential} names, F32/F64/F16/BF16
   * converted to float32, non-finite values refused.
   */
  static SafeTensors.InitModel readInit(SeekableByteChannel ch, Path file) throws IOException {
    Loaded l = load(ch, file, false, true);
    String converted = String.join(", ", l.dtypes().stream().filter(d -> !d.equals("F32")).toList());
    return new SafeTensors.InitModel((Mlp) l.network(), l.metadata(), l.names() + ", " + (converted.isEmpty() ? "F32"
        : converted + " converted to float32"), l.fileSha256());
  }

  /** A file read: the network, its metadata, the naming, the dtypes met (in file order) and the file's SHA-256. */
  private record Loaded(Network network, Map<String, String> metadata, String names, List<String> dtypes,
      String fileSha256) {}

  private static Loaded load(SeekableByteChannel ch, Path file, boolean allowNonFinite, boolean init)
      throws IOException {
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
    MessageDigest fileMd = SafeTensors.sha256();
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
    if (meta.containsKey(SafeTensors.LAYERS) || meta.containsKey(SafeTensors.INPUT_SHAPE)) {
      if (init) {
        throw new InvalidModelException(file, "a network of layers (__metadata__ " + SafeTensors.LAYERS + " '"
            + meta.get(SafeTensors.LAYERS) + "'): --init-model reads fully connected models only (layers.{i} or "
            + "nn.Sequential names, weights [out, in])");
      }
      Model m = readLayers(ch, file, entries, meta, dataStart, allowNonFinite, fileMd);
      return new Loaded(m.model(), meta, "pathsgd names", List.of("F32"), HexFormat.of().formatHex(fileMd.digest()));
    }
    Mapping map = init ? initLayout(file, entries) : layout(file, entries);
    ParamLayout lay = map.layout();
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
    MessageDigest md = SafeTensors.sha256();
    List<String> dtypes = new ArrayList<>();
    for (Entry e : entries) { // in file order, for the digests
      Slot slot = map.slots().get(e.name());
      int l = slot.layer();
      load(ch, file, e, dataStart, net.params(), slot.weight() ? lay.weightOffset(l) : lay.biasOffset(l),
          slot.weight() ? lay.in(l) : 0, allowNonFinite, md, fileMd);
      if (!dtypes.contains(e.dtype())) {
        dtypes.add(e.dtype());
      }
    }
    if (sha != null) {
      String actual = HexFormat.of().formatHex(md.digest());
      if (!actual.equals(sha)) {
        throw new InvalidModelException(file, "the data area's SHA-256 is " + actual + ", but __metadata__ "
            + DATA_SHA256 + " says " + sha + ": the file is damaged");
      }
    }
    return new Loaded(net, meta, map.names(), dtypes, HexFormat.of().formatHex(fileMd.digest()));
  }

  /**
   * A network of layers: rebuilt from the metadata's spec and input shape, with the class count from the last weight's
   * rows; every tensor must be exactly one the spec gives, of its shape.
   */
  private static Model readLayers(SeekableByteChannel ch, Path file, List<Entry> entries, Map<String, String> meta,
      long dataStart, boolean allowNonFinite, MessageDigest fileMd) throws IOException {
    String specText = meta.get(SafeTensors.LAYERS);
    String shapeText = meta.get(SafeTensors.INPUT_SHAPE);
    if (specText == null || shapeText == null) {
      throw new InvalidModelException(file, "__metadata__ has " + (specText == null ? SafeTensors.INPUT_SHAPE
          + " but no " + SafeTensors.LAYERS : SafeTensors.LAYERS + " but no " + SafeTensors.INPUT_SHAPE)
          + " (a network of layers records both)");
    }
    if (meta.containsKey(WIDTHS)) {
      throw new InvalidModelException(file, "__metadata__ has both " + WIDTHS + " and " + SafeTensors.LAYERS);
    }
    LayerSpec spec;
    try {
      spec = LayerSpec.parse(specText);
    } catch (IllegalArgumentException e) {
      throw new InvalidModelException(file, "__metadata__ " + SafeTensors.LAYERS + ": " + e.getMessage());
    }
    if (!shapeText.matches("[1-9][0-9]{0,8},[1-9][0-9]{0,8},[1-9][0-9]{0,8}")) {
      throw new InvalidModelException(file, "__metadata__ " + SafeTensors.INPUT_SHAPE + " is '" + shapeText
          + "', expected C,H,W (three positive integers)");
    }
    String[] chw = shapeText.split(",");
    long inputs = 1;
    for (String s : chw) {
      inputs *= Long.parseLong(s);
    }
    int last = -1;
    Entry lastWeight = null;
    for (Entry e : entries) {
      Matcher m = NAME.matcher(e.name());
      if (m.matches() && m.group(2).equals("weight") && Integer.parseInt(m.group(1)) > last) {
        last = Integer.parseInt(m.group(1));
        lastWeight = e;
      }
    }
    if (lastWeight == null || lastWeight.shape().length != 2 || lastWeight.shape()[0] < 1
        || lastWeight.shape()[0] > Integer.MAX_VALUE || inputs > ParamLayout.MAX_PARAMS) {
      throw new InvalidModelException(file, "no output layer: expected the last tensor pair layers.{i}.weight of "
          + "shape [classes, in]" + (lastWeight == null ? "" : ", got " + java.util.Arrays.toString(lastWeight.shape())));
    }
    LayerNet net;
    try {
      net = spec.build(Integer.parseInt(chw[0]), Integer.parseInt(chw[1]), Integer.parseInt(chw[2]),
          (int) lastWeight.shape()[0]);
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new InvalidModelException(file, "__metadata__ " + SafeTensors.LAYERS + " '" + specText + "' on input "
          + shapeText + ": " + e.getMessage());
    }
    Map<String, long[]> expected = new LinkedHashMap<>();
    Map<String, Integer> offsets = new LinkedHashMap<>();
    int i = 0;
    for (Layer l : net.layers()) {
      if (l.paramSize() == 0) {
        continue;
      }
      int[][] s = SafeTensors.shapes(l);
      expected.put("layers." + i + ".weight", java.util.Arrays.stream(s[0]).asLongStream().toArray());
      offsets.put("layers." + i + ".weight", l.paramOffset());
      expected.put("layers." + i + ".bias", java.util.Arrays.stream(s[1]).asLongStream().toArray());
      offsets.put("layers." + i + ".bias", l.paramOffset() + s[0][0] * (l.paramSize() / s[0][0] - 1));
      i++;
    }
    for (Entry e : entries) {
      long[] want = expected.get(e.name());
      if (want == null) {
        throw new InvalidModelException(file, "unexpected tensor '" + e.name() + "' (the layers " + specText
            + " have layers.{i}.weight and .bias for i = 0.." + (i - 1) + ")");
      }
      if (!e.dtype().equals("F32")) {
        throw new InvalidModelException(file, "tensor '" + e.name() + "' has dtype " + e.dtype() + ", expected F32");
      }
      if (!java.util.Arrays.equals(want, e.shape())) {
        throw new InvalidModelException(file, "tensor '" + e.name() + "' has shape "
            + java.util.Arrays.toString(e.shape()) + ", the layers " + specText + " on input " + shapeText
            + " give " + java.util.Arrays.toString(want));
      }
    }
    if (entries.size() != expected.size()) {
      for (String name : expected.keySet()) {
        if (entries.stream().noneMatch(e -> e.name().equals(name))) {
          throw new InvalidModelException(file, "missing tensor '" + name + "' of the layers " + specText);
        }
      }
    }
    String sha = meta.get(DATA_SHA256);
    if (sha != null && !HEX64.matcher(sha).matches()) {
      throw new InvalidModelException(file, "__metadata__ " + DATA_SHA256 + " is '" + sha
          + "', expected 64 lowercase hex digits");
    }
    MessageDigest md = SafeTensors.sha256();
    for (Entry e : entries) { // in file order, for the digest
      long[] s = e.shape();
      int cols = s.length > 1 ? (int) (java.util.Arrays.stream(s).reduce(1, (a, b) -> a * b) / s[0]) : 0;
      load(ch, file, e, dataStart, net.params(), offsets.get(e.name()), cols, allowNonFinite, md, fileMd);
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
  private static Mapping layout(Path file, List<Entry> entries) throws IOException {
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
    Map<String, Slot> slots = new TreeMap<>();
    for (int l = 0; l < layers; l++) {
      slots.put("layers." + l + ".weight", new Slot(l, true));
      slots.put("layers." + l + ".bias", new Slot(l, false));
    }
    return new Mapping(layout(file, widths), slots, "pathsgd names (layers.0.." + (layers - 1) + ")");
  }

  private static ParamLayout layout(Path file, int[] widths) throws IOException {
    try {
      return new ParamLayout(widths);
    } catch (IllegalArgumentException e) {
      throw new InvalidModelException(file, e.getMessage());
    }
  }

  /**
   * The names of an initial model: pathsgd's ({@code layers.{i}.weight/.bias}, checked by {@link #layout} but for
   * the dtype) or PyTorch {@code nn.Sequential}'s ({@code 0.weight}, {@code 0.bias}, {@code 2.weight}, ...: Linear
   * modules at increasing indices, gaps allowed for parameterless modules such as ReLU and Dropout, mapped in index
   * order onto layers 0, 1, ...), not both; F32, F64, F16 or BF16.
   */
  private static Mapping initLayout(Path file, List<Entry> entries) throws IOException {
    if (entries.isEmpty()) {
      throw new InvalidModelException(file, "no tensors (expected layers.{i}.weight/.bias or nn.Sequential names "
          + "0.weight, 0.bias, 2.weight, ...)");
    }
    String ours = null;
    String seq = null;
    for (Entry e : entries) {
      if (!INIT_DTYPES.contains(e.dtype())) {
        throw new InvalidModelException(file, "tensor '" + e.name() + "' has dtype " + e.dtype() + ", expected one of "
            + INIT_DTYPES + " (converted to float32)");
      }
      if (NAME.matcher(e.name()).matches()) {
        ours = ours == null ? e.name() : ours;
      } else if (SEQUENTIAL.matcher(e.name()).matches()) {
        seq = seq == null ? e.name() : seq;
      } else {
        throw new InvalidModelException(file, "unexpected tensor '" + e.name() + "' (expected pathsgd names "
            + "layers.{i}.weight/.bias or PyTorch nn.Sequential names {i}.weight/.bias)");
      }
    }
    if (ours != null && seq != null) {
      throw new InvalidModelException(file, "mixes pathsgd names ('" + ours + "') and nn.Sequential names ('" + seq
          + "'); use one naming");
    }
    if (ours != null) {
      List<Entry> f32 = new ArrayList<>();
      for (Entry e : entries) { // the pathsgd checks, the dtype aside
        f32.add(new Entry(e.name(), "F32", e.shape(), e.begin(), e.end()));
      }
      return layout(file, f32);
    }
    TreeMap<Integer, Entry[]> modules = new TreeMap<>(); // index -> {weight, bias}
    for (Entry e : entries) {
      Matcher m = SEQUENTIAL.matcher(e.name());
      m.matches();
      modules.computeIfAbsent(Integer.parseInt(m.group(1)), k -> new Entry[2])[m.group(2).equals("weight") ? 0 : 1] =
          e;
    }
    // each module holds two tensors, so there are at most entries / 2 layers (this bounds the allocation)
    int layers = modules.size();
    int[] widths = new int[layers + 1];
    Map<String, Slot> slots = new TreeMap<>();
    List<String> indices = new ArrayList<>();
    List<String> targets = new ArrayList<>();
    int l = 0;
    String prevWeight = null;
    for (var mod : modules.entrySet()) {
      int i = mod.getKey();
      Entry w = mod.getValue()[0];
      Entry b = mod.getValue()[1];
      if (w == null || b == null) {
        String has = w == null ? i + ".bias' but no '" + i + ".weight'" : i + ".weight' but no '" + i + ".bias'";
        throw new InvalidModelException(file, "nn.Sequential module " + i + " has '" + has
            + " (every Linear layer needs a weight and a bias)");
      }
      if (w.shape().length != 2 || w.shape()[0] < 1 || w.shape()[1] < 1 || w.shape()[0] > Integer.MAX_VALUE
          || w.shape()[1] > Integer.MAX_VALUE) {
        throw new InvalidModelException(file, "tensor '" + w.name() + "' has shape "
            + java.util.Arrays.toString(w.shape()) + ", expected [out, in] of positive ints (an nn.Linear weight)");
      }
      int out = (int) w.shape()[0];
      int in = (int) w.shape()[1];
      if (l == 0) {
        widths[0] = in;
      } else if (in != widths[l]) {
        throw new InvalidModelException(file, "tensor '" + w.name() + "' has " + in + " inputs, but '" + prevWeight
            + "' has " + widths[l] + " outputs (the Linear layers' shapes do not chain)");
      }
      if (b.shape().length != 1 || b.shape()[0] != out) {
        throw new InvalidModelException(file, "tensor '" + b.name() + "' has shape "
            + java.util.Arrays.toString(b.shape()) + ", expected [" + out + "]");
      }
      widths[l + 1] = out;
      slots.put(w.name(), new Slot(l, true));
      slots.put(b.name(), new Slot(l, false));
      indices.add(String.valueOf(i));
      targets.add(String.valueOf(l));
      prevWeight = w.name();
      l++;
    }
    return new Mapping(layout(file, widths), slots, "PyTorch nn.Sequential names (" + String.join(", ", indices)
        + " -> layers " + String.join(", ", targets) + ")");
  }

  /**
   * Reads one tensor (F32, or F64/F16/BF16 converted to float32: F64 rounded to nearest, F16 and BF16 exactly) into
   * {@code dst} at {@code dstOff}, checking finiteness (an F64 value beyond the float32 range counts as infinite) and
   * updating the digests.
   */
  private static void load(SeekableByteChannel ch, Path file, Entry e, long dataStart, Tensor dst, int dstOff, int cols,
      boolean allowNonFinite, MessageDigest md, MessageDigest fileMd) throws IOException {
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
  static float halfToFloat(short h) {
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
}
