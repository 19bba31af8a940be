package io.github.pathsgd.model;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.nn.ParamSlice;
import io.github.pathsgd.model.format.InvalidModelException;
import io.github.pathsgd.model.format.SafeTensorsFormat;
import io.github.pathsgd.model.format.SafeTensorsFormat.Tensor32;
import io.github.pathsgd.train.io.AtomicFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Networks in the <a href="https://github.com/huggingface/safetensors">safetensors</a> format, readable by the standard
 * readers ({@code safetensors.torch.load_file}, {@code safetensors.numpy.load_file}).
 *
 * <p>Layout: an 8-byte little-endian header length N, N bytes of JSON header (padded with spaces to a multiple of
 * 8), then the raw little-endian tensor data; the format's rules are {@link SafeTensorsFormat}'s, the names here are
 * pathsgd's. Tensor names are {@code layers.{i}.weight} (F32, shape [out, in], as
 * PyTorch's {@code nn.Linear}) and {@code layers.{i}.bias} (F32, shape [out]), i = 0 for the first layer. The
 * {@code __metadata__} map records the format name, the widths ({@code pathsgd_widths}), the SHA-256 of the data area
 * ({@code pathsgd_data_sha256}) and any caller metadata (strings only, as the format requires). The header is written
 * in a fixed order: {@code __metadata__} first, its keys sorted (by UTF-16 code unit), then the tensors in layer
 * order, so that the same network and metadata give the same bytes in every process (and the same SHA-256, which
 * {@code --init-model} hashes into a run id). Files written with another key order read as before.
 *
 * <p>Reading is strict: the format's rules as the reference implementation checks them ({@link
 * SafeTensorsFormat#readHeader}), and pathsgd's own: a pathsgd model holds exactly
 * {@code layers.0..L-1.weight/.bias} in F32, whose shapes chain, nothing else; {@code pathsgd_widths} and {@code
 * pathsgd_data_sha256}, when present, must agree with the tensors; and every weight must be finite unless the caller
 * allows otherwise. Every failure is a {@link InvalidModelException} naming the file and the field, tensor or byte at
 * fault. Nothing is allocated before the sizes are checked against the file's real length.
 *
 * <p>Networks of layers ({@link LayerNet}: convolutions, pooling, dense). The metadata records the layer spec ({@code
 * pathsgd_layers}, the hidden layers as {@code pathsgd train --layers} spells them) and the input shape ({@code
 * pathsgd_input_shape}, {@code C,H,W}); the output layer is the last tensor pair (its rows are the classes). A
 * convolution's weight is {@code layers.{i}.weight} of shape [out, in, kh, kw] and its bias [out], as PyTorch's {@code
 * nn.Conv2d}; a dense layer's [out, in] and [out]. i counts the layers with parameters only (pooling has none and
 * takes no index): the names stay dense 0..L-1 as the reader requires, and a network of dense layers only is written
 * exactly as the equivalent fully connected network. (A PyTorch {@code nn.Sequential} numbers every module, ReLU and
 * pooling included; its state dict is renamed to 0..L-1 to be read here.) The reader rebuilds the network from the
 * spec and the input shape and refuses any tensor that is missing, extra, or not of the shape the spec gives.
 */
public final class SafeTensors {
  /** Metadata key of the data area's SHA-256 (lowercase hex), written by {@link #write} and checked by the reader. */
  public static final String DATA_SHA256 = "pathsgd_data_sha256";
  /** Metadata key of a network of layers' spec (its hidden layers, canonical text). */
  public static final String LAYERS = "pathsgd_layers";
  /** Metadata key of a network of layers' input shape {@code C,H,W}. */
  public static final String INPUT_SHAPE = "pathsgd_input_shape";
  /** Metadata key of the widths n_0-n_1-...-n_L. */
  public static final String WIDTHS = "pathsgd_widths";
  static final Pattern NAME = Pattern.compile("layers\\.(0|[1-9][0-9]{0,8})\\.(weight|bias)");
  /** PyTorch {@code nn.Sequential} parameter names: module index, weight or bias. */
  static final Pattern SEQUENTIAL = Pattern.compile("(0|[1-9][0-9]{0,8})\\.(weight|bias)");
  static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

  private SafeTensors() {}

  /**
   * Writes {@code net} to {@code file} atomically ({@link AtomicFiles}): a fully connected network ({@link
   * LayerNet#dense}, recorded by its widths), or a {@link LayerNet} built from a spec ({@link LayerNet#spec()}; a
   * hand-made list of layers that is not a dense chain has none and is refused).
   */
  public static void write(Network net, Path file, Map<String, String> metadata) {
    Prepared p = prepare(net, metadata);
    AtomicFiles.write(file, out -> SafeTensorsFormat.write(out, p.header(), net.params(), p.dataBytes()));
  }

  /** {@link #write(Network, Path, Map)} to a stream: the same bytes. */
  public static void write(Network net, OutputStream out, Map<String, String> metadata) throws IOException {
    Prepared p = prepare(net, metadata);
    SafeTensorsFormat.write(out, p.header(), net.params(), p.dataBytes());
  }

  private record Prepared(byte[] header, long dataBytes) {}

  /** The header of {@code net}'s file: pathsgd's tensor names and metadata, in a fixed order. */
  private static Prepared prepare(Network net, Map<String, String> metadata) {
    // the metadata in sorted key order, whatever the order of the caller's map (Map.of iterates in an order that
    // differs from one JVM to the next): the same network and metadata give the same bytes in every process
    TreeMap<String, String> meta = new TreeMap<>();
    meta.put("format", "pt");
    if (metadata != null) {
      meta.putAll(metadata);
    }
    List<Tensor32> tensors = new ArrayList<>();
    DenseChain lay = net.layout().denseChain(); // a fully connected network is described by its widths
    if (lay != null) {
      meta.put(WIDTHS, lay.toString());
      for (int l = 0; l < lay.layers(); l++) {
        tensors.add(new Tensor32("layers." + l + ".weight", new int[] {lay.out(l), lay.in(l)}));
        tensors.add(new Tensor32("layers." + l + ".bias", new int[] {lay.out(l)}));
      }
    } else {
      if (net.spec() == null || net.inputShape() == null) {
        throw new IllegalArgumentException("a network of layers is written with its spec and input shape; this one "
            + "was not built from a LayerSpec");
      }
      int[] s = net.inputShape();
      meta.put(LAYERS, net.spec().toString());
      meta.put(INPUT_SHAPE, s[0] + "," + s[1] + "," + s[2]);
      int i = 0;
      for (Layer l : net.layers()) {
        if (l.paramSize() == 0) {
          continue;
        }
        for (ParamSlice slice : l.paramSlices()) { // the layer's own names and shapes, in parameter order
          tensors.add(new Tensor32("layers." + i + "." + slice.name(), slice.shape()));
        }
        i++;
      }
    }
    meta.put(DATA_SHA256, SafeTensorsFormat.dataSha256(net.params()));
    // the flat parameter order W0, b0, W1, b1, ... is exactly the data order of these tensors
    return new Prepared(SafeTensorsFormat.header(meta, tensors), SafeTensorsFormat.dataBytes(tensors));
  }

  /**
   * A network read back, with the file's metadata.
   *
   * @param model a fully connected {@link LayerNet} ({@link LayerNet#dense}) when the file records widths, or one
   *     built from the layer spec the file records
   * @param layerNet the same network when it is a network of layers (the file records a spec), else null
   */
  public record Model(Network model, Map<String, String> metadata, LayerNet layerNet) {
    /** A fully connected model. */
    public Model(Network model, Map<String, String> metadata) {
      this(model, metadata, null);
    }

    /** The fully connected network; refuses a network of layers (use {@link #model()}). */
    public LayerNet network() {
      DenseChain chain = model.layout().denseChain();
      if (chain != null) {
        return LayerNet.dense(chain, model.params()); // the same parameters, not a copy
      }
      throw new IllegalStateException("the model is a network of layers (" + metadata.get(LAYERS) + "), not a fully "
          + "connected network");
    }
  }

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
    return SafeTensorsReader.read(ch, file, allowNonFinite);
  }

  /**
   * A model to start training from ({@code train --init-model}).
   *
   * @param mapping how the file's tensors were read, in words, e.g. "PyTorch nn.Sequential names (0, 2, 4 -> layers
   *     0, 1, 2), F64 converted to float32"
   * @param sha256 the SHA-256 of the whole file (lowercase hex), as {@code sha256sum} prints it
   */
  public record InitModel(LayerNet network, Map<String, String> metadata, String mapping, String sha256) {}

  /**
   * Reads a model to start training from: every rule of {@link #read(Path, boolean)} (the format, finite weights, the
   * metadata checks), except that the tensors may be F32, F64, F16 or BF16 (converted to float32: F64 rounded to
   * nearest, an F64 value outside the float32 range refused; F16 and BF16 exactly), and named either as pathsgd
   * names them or as a PyTorch {@code nn.Sequential} of Linear layers: {@code 0.weight}, {@code 0.bias}, {@code
   * 2.weight}, ... in increasing module index (gaps for parameterless modules such as ReLU and Dropout), mapped in
   * that order onto layers 0, 1, ... Both namings in one file, a module without its bias, and shapes that do not chain
   * are refused, naming the tensor.
   *
   * @throws InvalidModelException if the file breaks a rule
   */
  public static InitModel readInit(Path file) throws IOException {
    io.github.pathsgd.data.InputFiles.requireRegular(file, "model");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return SafeTensorsReader.readInit(ch, file);
    }
  }

  /** {@link #readInit(Path)} on an open channel named {@code file} (tests read from memory). */
  static InitModel readInit(SeekableByteChannel ch, Path file) throws IOException {
    return SafeTensorsReader.readInit(ch, file);
  }
}
