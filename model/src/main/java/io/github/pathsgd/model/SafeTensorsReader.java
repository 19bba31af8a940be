package io.github.pathsgd.model;

import static io.github.pathsgd.model.SafeTensors.DATA_SHA256;
import static io.github.pathsgd.model.SafeTensors.HEX64;
import static io.github.pathsgd.model.SafeTensors.NAME;
import static io.github.pathsgd.model.SafeTensors.SEQUENTIAL;
import static io.github.pathsgd.model.SafeTensors.WIDTHS;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.LayerSpec;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.nn.ParamSlice;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.model.SafeTensors.Model;
import io.github.pathsgd.model.format.InvalidModelException;
import io.github.pathsgd.model.format.SafeTensorsFormat;
import io.github.pathsgd.model.format.SafeTensorsFormat.Entry;
import io.github.pathsgd.model.format.SafeTensorsFormat.Header;
import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;

/**
 * The checking reader of {@link SafeTensors}: the format's rules ({@link SafeTensorsFormat#readHeader}), then
 * pathsgd's names, dtypes and shapes, one by one.
 */
final class SafeTensorsReader {
  private SafeTensorsReader() {}

  /** Where a tensor goes: layer l's weight or bias. */
  private record Slot(int layer, boolean weight) {}

  /** The layout of a model and where each of its tensors goes, with the naming in words. */
  private record Mapping(DenseChain layout, Map<String, Slot> slots, String names) {}

  /** The dtypes an initial model may hold (converted to float32); a pathsgd model is F32 only. */
  static final List<String> INIT_DTYPES = List.of("F32", "F64", "F16", "BF16");

  /** {@link #read(Path, boolean)} on an open channel; {@code file} names it in errors (tests read from memory). */
  static Model read(SeekableByteChannel ch, Path file, boolean allowNonFinite) throws IOException {
    Loaded l = load(ch, file, allowNonFinite, false);
    return new Model(l.network(), l.metadata(), l.layerNet());
  }

  /**
   * A model read for {@code train --init-model}: pathsgd or PyTorch {@code nn.Sequential} names, F32/F64/F16/BF16
   * converted to float32, non-finite values refused.
   */
  static SafeTensors.InitModel readInit(SeekableByteChannel ch, Path file) throws IOException {
    Loaded l = load(ch, file, false, true);
    String converted = String.join(", ", l.dtypes().stream().filter(d -> !d.equals("F32")).toList());
    return new SafeTensors.InitModel(new Model(l.network(), l.metadata()).network(), l.metadata(), l.names() + ", " + (converted.isEmpty() ? "F32"
        : converted + " converted to float32"), l.fileSha256());
  }

  /** A file read: the network, its metadata, the naming, the dtypes met (in file order) and the file's SHA-256. */
  private record Loaded(Network network, Map<String, String> metadata, String names, List<String> dtypes,
      String fileSha256, LayerNet layerNet) {}

  private static Loaded load(SeekableByteChannel ch, Path file, boolean allowNonFinite, boolean init)
      throws IOException {
    Header h = SafeTensorsFormat.readHeader(ch, file);
    Map<String, String> meta = h.metadata();
    List<Entry> entries = h.entries();
    long dataStart = h.dataStart();
    MessageDigest fileMd = h.fileDigest();
    if (meta.containsKey(SafeTensors.LAYERS) || meta.containsKey(SafeTensors.INPUT_SHAPE)) {
      if (init) {
        throw new InvalidModelException(file, "a network of layers (__metadata__ " + SafeTensors.LAYERS + " '"
            + meta.get(SafeTensors.LAYERS) + "'): --init-model reads fully connected models only (layers.{i} or "
            + "nn.Sequential names, weights [out, in])");
      }
      Model m = readLayers(ch, file, entries, meta, dataStart, allowNonFinite, fileMd);
      return new Loaded(m.model(), meta, "pathsgd names", List.of("F32"), HexFormat.of().formatHex(fileMd.digest()),
          m.layerNet());
    }
    Mapping map = init ? initLayout(file, entries) : layout(file, entries);
    DenseChain lay = map.layout();
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
    LayerNet net = LayerNet.dense(lay);
    MessageDigest md = SafeTensorsFormat.sha256();
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
    return new Loaded(net, meta, map.names(), dtypes, HexFormat.of().formatHex(fileMd.digest()), null);
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
        || lastWeight.shape()[0] > Integer.MAX_VALUE || inputs > DenseChain.MAX_PARAMS) {
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
      for (ParamSlice s : l.paramSlices()) {
        expected.put("layers." + i + "." + s.name(), java.util.Arrays.stream(s.shape()).asLongStream().toArray());
        offsets.put("layers." + i + "." + s.name(), s.offset());
      }
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
    MessageDigest md = SafeTensorsFormat.sha256();
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
    return new Model(net, meta, net);
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

  private static DenseChain layout(Path file, int[] widths) throws IOException {
    try {
      return new DenseChain(widths);
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

  private static void load(SeekableByteChannel ch, Path file, Entry e, long dataStart, Tensor dst, int dstOff, int cols,
      boolean allowNonFinite, MessageDigest md, MessageDigest fileMd) throws IOException {
    SafeTensorsFormat.readF32(ch, file, e, dataStart, dst, dstOff, cols, allowNonFinite, md, fileMd);
  }
}
