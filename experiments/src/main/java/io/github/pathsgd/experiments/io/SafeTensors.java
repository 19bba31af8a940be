package io.github.pathsgd.experiments.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.pathsgd.core.nn.Mlp;
import io.github.pathsgd.core.nn.ParamLayout;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.experiments.results.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Networks in the <a href="https://github.com/huggingface/safetensors">safetensors</a> format, readable by the standard
 * readers ({@code safetensors.torch.load_file}, {@code safetensors.numpy.load_file}).
 *
 * <p>Layout: an 8-byte little-endian header length N, N bytes of JSON header (padded with spaces to a multiple of
 * 8), then the raw little-endian tensor data. Tensor names are {@code layers.{i}.weight} (F32, shape [out, in], as
 * PyTorch's {@code nn.Linear}) and {@code layers.{i}.bias} (F32, shape [out]), i = 0 for the first layer. The
 * {@code __metadata__} map records the format name, the widths and any caller metadata (strings only, as the format
 * requires).
 */
public final class SafeTensors {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Header size limit (the reference implementation uses 100 MB). */
  private static final long MAX_HEADER = 100L << 20;

  private SafeTensors() {}

  /** Writes {@code net} to {@code file} atomically. */
  public static void write(Mlp net, Path file, Map<String, String> metadata) {
    ParamLayout lay = net.layout();
    ObjectNode header = JSON.createObjectNode();
    ObjectNode meta = header.putObject("__metadata__");
    meta.put("format", "pt");
    meta.put("pathsgd_widths", lay.toString());
    if (metadata != null) {
      metadata.forEach(meta::put);
    }
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
      ByteBuffer chunk = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
      Tensor p = net.params();
      long written = 0;
      // the flat parameter order W0, b0, W1, b1, ... is exactly the data order above
      for (int i = 0; i < p.size(); i++) {
        if (!chunk.hasRemaining()) {
          out.write(chunk.array(), 0, chunk.position());
          written += chunk.position();
          chunk.clear();
        }
        chunk.putFloat(p.get(i));
      }
      out.write(chunk.array(), 0, chunk.position());
      written += chunk.position();
      if (written != dataBytes) {
        throw new IOException("wrote " + written + " data bytes, header says " + dataBytes);
      }
    });
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

  /**
   * Reads a network written by {@link #write} or by any tool that uses the same names (for example a PyTorch
   * {@code nn.Sequential} state dict renamed to {@code layers.i.*}). Errors name the file and the tensor or byte
   * offset at fault.
   */
  public static Model read(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 8) {
        throw new IOException(file + ": too short for a safetensors file (" + size + " bytes)");
      }
      ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0);
      long hlen = lenBuf.getLong(0);
      if (hlen <= 0 || hlen > MAX_HEADER || 8 + hlen > size) {
        throw new IOException(file + ": header length " + hlen + " at byte 0 is impossible for a file of " + size
            + " bytes");
      }
      ByteBuffer hb = ByteBuffer.allocate((int) hlen);
      readFully(ch, hb, 8);
      JsonNode header;
      try {
        header = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8).strip());
      } catch (IOException e) {
        throw new IOException(file + ": header is not valid JSON: " + e.getMessage(), e);
      }
      if (header == null || !header.isObject()) {
        throw new IOException(file + ": header is not a JSON object");
      }
      long dataStart = 8 + hlen;
      long dataLen = size - dataStart;
      Map<String, String> meta = new LinkedHashMap<>();
      JsonNode m = header.get("__metadata__");
      if (m != null) {
        Iterator<Map.Entry<String, JsonNode>> it = m.fields();
        while (it.hasNext()) {
          var e = it.next();
          meta.put(e.getKey(), e.getValue().asText());
        }
      }
      List<Integer> widths = new ArrayList<>();
      int layers = 0;
      while (header.has("layers." + layers + ".weight")) {
        int[] shape = shape(file, header, "layers." + layers + ".weight", 2);
        int[] bshape = shape(file, header, "layers." + layers + ".bias", 1);
        if (layers == 0) {
          widths.add(shape[1]);
        } else if (shape[1] != widths.get(widths.size() - 1)) {
          throw new IOException(file + ": layers." + layers + ".weight has " + shape[1] + " inputs, the previous layer "
              + widths.get(widths.size() - 1) + " outputs");
        }
        if (bshape[0] != shape[0]) {
          throw new IOException(file + ": layers." + layers + ".bias has shape [" + bshape[0] + "], expected ["
              + shape[0] + "]");
        }
        widths.add(shape[0]);
        layers++;
      }
      if (layers == 0) {
        throw new IOException(file + ": no tensor named layers.0.weight (expected layers.{i}.weight / layers.{i}.bias)");
      }
      ParamLayout lay = new ParamLayout(widths.stream().mapToInt(Integer::intValue).toArray());
      Mlp net = new Mlp(lay);
      for (int l = 0; l < layers; l++) {
        load(ch, file, header, "layers." + l + ".weight", dataStart, dataLen, net.params(), lay.weightOffset(l),
            lay.weightSize(l));
        load(ch, file, header, "layers." + l + ".bias", dataStart, dataLen, net.params(), lay.biasOffset(l),
            lay.out(l));
      }
      return new Model(net, meta);
    }
  }

  private static int[] shape(Path file, JsonNode header, String name, int rank) throws IOException {
    JsonNode t = header.get(name);
    if (t == null) {
      throw new IOException(file + ": missing tensor " + name);
    }
    if (!"F32".equals(t.path("dtype").asText())) {
      throw new IOException(file + ": tensor " + name + " has dtype " + t.path("dtype").asText() + ", expected F32");
    }
    JsonNode s = t.get("shape");
    if (s == null || !s.isArray() || s.size() != rank) {
      throw new IOException(file + ": tensor " + name + " has shape " + s + ", expected rank " + rank);
    }
    int[] out = new int[rank];
    for (int i = 0; i < rank; i++) {
      long v = s.get(i).asLong(-1);
      if (v <= 0 || v > Integer.MAX_VALUE) {
        throw new IOException(file + ": tensor " + name + " has dimension " + s.get(i) + ", expected a positive int");
      }
      out[i] = (int) v;
    }
    return out;
  }

  private static void load(FileChannel ch, Path file, JsonNode header, String name, long dataStart, long dataLen,
      Tensor dst, int dstOff, int count) throws IOException {
    JsonNode o = header.get(name).get("data_offsets");
    if (o == null || !o.isArray() || o.size() != 2) {
      throw new IOException(file + ": tensor " + name + " lacks data_offsets [begin, end]");
    }
    long begin = o.get(0).asLong(-1);
    long end = o.get(1).asLong(-1);
    if (begin < 0 || end - begin != 4L * count || end > dataLen) {
      throw new IOException(file + ": tensor " + name + " data_offsets [" + begin + ", " + end + "] do not hold "
          + count + " floats inside the " + dataLen + "-byte data section");
    }
    ByteBuffer bb = ByteBuffer.allocate(4 * count).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, bb, dataStart + begin);
    bb.flip();
    var fb = bb.asFloatBuffer();
    for (int i = 0; i < count; i++) {
      dst.set(dstOff + i, fb.get(i));
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      int n = ch.read(b, pos + b.position());
      if (n < 0) {
        throw new IOException("unexpected end of file at byte " + (pos + b.position()));
      }
    }
  }
}
