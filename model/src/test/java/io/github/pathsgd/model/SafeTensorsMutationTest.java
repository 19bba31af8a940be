package io.github.pathsgd.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.model.format.InvalidModelException;
import io.github.pathsgd.train.checkpoint.MemoryChannel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mutation property test of the model reader: thousands of mutations of a valid model file (every single-bit flip,
 * every truncation, random insertions, deletions, byte replacements and appended bytes, and header edits: JSON
 * whitespace, key order, numbers and strings rewritten with the header length fixed up). Every mutation is either
 * refused with {@link InvalidModelException} or provably harmless: the file reads back to exactly the
 * same tensors, bit for bit (with the same metadata, or with only a metadata string changed). The outcomes are counted
 * and printed.
 */
class SafeTensorsMutationTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String IDENTICAL = "harmless: identical tensors and metadata";
  static final String METADATA = "harmless: identical tensors, a metadata string changed";

  private final Map<String, Map<String, Integer>> counts = new LinkedHashMap<>();
  private int cases;
  private int fileCases;
  private long fileNanos;

  @Test
  void everyMutationIsRefusedOrHarmless(@TempDir Path tmp) throws IOException {
    LayerNet net = Init.balanced(new DenseChain(5, 7, 4, 3), new Rng(3));
    Path orig = tmp.resolve("model.safetensors");
    SafeTensors.write(net, orig, Map.of("pathsgd_run_id", "0123456789ab"));
    byte[] valid = Files.readAllBytes(orig);
    SafeTensors.Model ref = SafeTensors.read(orig);
    int[] bits = bits(ref.network());
    assertThat(bits).isEqualTo(bits(net));
    Path f = tmp.resolve("mutated.safetensors");
    Rng rng = new Rng(11);
    long start = System.nanoTime();

    for (int i = 0; i < valid.length; i++) {
      for (int b = 0; b < 8; b++) {
        byte[] m = valid.clone();
        m[i] ^= (byte) (1 << b);
        check(f, m, ref, bits, "bit flip", "bit " + b + " of byte " + i);
      }
    }
    for (int n = 0; n < valid.length; n++) {
      check(f, Arrays.copyOf(valid, n), ref, bits, "truncation", "cut to " + n + " bytes");
    }
    for (int k = 0; k < 1500; k++) {
      int pos = rng.nextInt(valid.length + 1);
      byte[] ins = randomBytes(rng, 1 + rng.nextInt(8));
      check(f, splice(valid, pos, 0, ins), ref, bits, "insertion", ins.length + " bytes at " + pos);
      int from = rng.nextInt(valid.length);
      int del = 1 + rng.nextInt(Math.min(16, valid.length - from));
      check(f, splice(valid, from, del, new byte[0]), ref, bits, "deletion", del + " bytes at " + from);
      byte[] r = valid.clone();
      int at = rng.nextInt(valid.length);
      r[at] = (byte) (r[at] ^ (1 + rng.nextInt(255)));
      check(f, r, ref, bits, "byte replacement", "byte " + at);
    }
    for (int k = 0; k < 200; k++) {
      check(f, splice(valid, valid.length, 0, randomBytes(rng, 1 + rng.nextInt(16))), ref, bits, "appended bytes",
          "appended");
    }

    // header edits, the header length fixed up
    int hlen = (int) ByteBuffer.wrap(valid).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    String header = new String(valid, 8, hlen, StandardCharsets.UTF_8).strip();
    byte[] data = Arrays.copyOfRange(valid, 8 + hlen, valid.length);
    for (int k = 0; k < 500; k++) {
      check(f, withHeader(whitespace(header, rng), data), ref, bits, "header: JSON whitespace", "whitespace");
      check(f, withHeader(shuffled(header, rng), data), ref, bits, "header: key order", "key order");
      check(f, withHeader(number(header, rng), data), ref, bits, "header: a number rewritten", "number");
      check(f, withHeader(string(header, rng), data), ref, bits, "header: a string rewritten", "string");
    }
    // tensors moved in the data area, offsets rewritten (without the data checksum, which is over the area's order)
    for (int k = 0; k < 50; k++) {
      byte[] moved = moved(header, data, rng);
      check(f, moved, ref, bits, "tensors moved, offsets rewritten", "moved");
    }

    System.out.println("SafeTensorsMutationTest: " + cases + " mutations of a " + valid.length + "-byte model:");
    int refused = 0;
    int harmless = 0;
    for (var e : counts.entrySet()) {
      System.out.println("  " + e.getKey() + ": " + e.getValue());
      for (var o : e.getValue().entrySet()) {
        if (o.getKey().startsWith("harmless")) {
          harmless += o.getValue();
        } else {
          refused += o.getValue();
        }
      }
    }
    System.out.println("  total: " + refused + " refused, " + harmless + " harmless, 0 read wrong (" + (System.nanoTime()
        - start) / 1000000 + " ms; " + fileCases + " of them also written to and read from a file, to the same outcome, "
        + "in " + fileNanos / 1000000 + " ms)");
    assertThat(refused + harmless).isEqualTo(cases);
    assertThat(cases).isGreaterThan(8 * valid.length + 5000);
    // every bit flip is refused but those inside metadata strings that are not checked (key or value)
    assertThat(counts.get("bit flip").getOrDefault(IDENTICAL, 0)).isZero();
    assertThat(counts.get("header: JSON whitespace")).containsOnlyKeys(IDENTICAL);
    assertThat(counts.get("header: key order")).containsOnlyKeys(IDENTICAL);
    assertThat(counts.get("tensors moved, offsets rewritten")).containsOnlyKeys(METADATA);
  }

  /**
   * Reads the mutated bytes (from memory; every 100th case also from a real file, which must give the same outcome);
   * counts the outcome, or fails if the file reads to anything but the same tensors.
   */
  private void check(Path f, byte[] bytes, SafeTensors.Model ref, int[] bits, String mutation, String what)
      throws IOException {
    String outcome = outcome(f, bytes, ref, bits, mutation, what, false);
    if (cases++ % 100 == 0) {
      long t0 = System.nanoTime();
      Files.write(f, bytes);
      assertThat(outcome(f, bytes, ref, bits, mutation, what, true)).as(what).isEqualTo(outcome);
      fileNanos += System.nanoTime() - t0;
      fileCases++;
    }
    counts.computeIfAbsent(mutation, k -> new TreeMap<>()).merge(outcome, 1, Integer::sum);
  }

  private static String outcome(Path f, byte[] bytes, SafeTensors.Model ref, int[] bits, String mutation, String what,
      boolean fromFile) throws IOException {
    try {
      SafeTensors.Model m = fromFile ? SafeTensors.read(f) : SafeTensors.read(new MemoryChannel(bytes), f, false);
      if (!m.network().layout().equals(ref.network().layout()) || !Arrays.equals(bits(m.network()), bits)) {
        fail(mutation + " (" + what + ") read back different tensors: " + m.network().layout());
      }
      return m.metadata().equals(ref.metadata()) ? IDENTICAL : METADATA;
    } catch (InvalidModelException e) {
      assertThat(e.getMessage()).startsWith(f + ": ").doesNotContain("\n");
      return "refused: " + kind(e.getMessage().substring(f.toString().length() + 2));
    }
  }

  /** A short name for the rule a refusal cites. */
  static String kind(String msg) {
    String[][] kinds = {{"too short", "too short"}, {"header length", "header length"}, {"UTF-8", "not UTF-8"},
      {"must start with '{'", "header start"}, {"not one valid JSON", "not JSON"}, {"__metadata__ value",
        "metadata not a string"}, {"__metadata__ must", "metadata not an object"}, {"pathsgd_widths is", "widths"},
      {"pathsgd_data_sha256 is", "checksum format"}, {"SHA-256", "data checksum"}, {"unknown field", "unknown field"},
      {"has dtype", "dtype"}, {"must be an object", "tensor not an object"}, {"outside the", "offsets outside"},
      {"not a non-negative integer", "offset not an integer"}, {"span", "shape vs offsets"},
      {"starts at data byte", "gap or overlap"}, {"the tensors cover", "data area not covered"},
      {"unexpected tensor", "unexpected tensor"}, {"missing tensor", "missing tensor"}, {"inputs, but", "chain"},
      {"has shape", "shape"}, {"data_offsets", "offsets"}, {"no tensors", "no tensors"}, {"is NaN", "non-finite"},
      {"Infinity", "non-finite"}, {"end of file", "end of file"}};
    for (String[] k : kinds) {
      if (msg.contains(k[0])) {
        return k[1];
      }
    }
    return msg;
  }

  static int[] bits(LayerNet net) {
    float[] p = net.params().toArray();
    int[] b = new int[p.length];
    for (int i = 0; i < p.length; i++) {
      b[i] = Float.floatToRawIntBits(p[i]);
    }
    return b;
  }

  static byte[] randomBytes(Rng rng, int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) rng.nextInt(256);
    }
    return b;
  }

  static byte[] splice(byte[] a, int at, int remove, byte[] insert) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(a, 0, at);
    out.writeBytes(insert);
    out.write(a, at + remove, a.length - at - remove);
    return out.toByteArray();
  }

  static byte[] withHeader(String header, byte[] data) {
    return SafeTensorsTest.file(header, data);
  }

  /** Structural characters of the header outside strings, where JSON allows whitespace on either side. */
  static List<Integer> structural(String h) {
    List<Integer> at = new ArrayList<>();
    boolean[] out = outsideStrings(h);
    for (int i = 0; i < h.length(); i++) {
      if (out[i] && "{}[],:".indexOf(h.charAt(i)) >= 0) {
        at.add(i);
      }
    }
    return at;
  }

  /** out[i]: character i of the JSON text h lies outside every string literal (quotes count as inside). */
  static boolean[] outsideStrings(String h) {
    boolean[] out = new boolean[h.length()];
    boolean str = false;
    for (int i = 0; i < h.length(); i++) {
      char c = h.charAt(i);
      if (str) {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          str = false;
        }
      } else if (c == '"') {
        str = true;
      } else {
        out[i] = true;
      }
    }
    return out;
  }

  /** Inserts JSON whitespace next to a few structural characters (never before the opening brace). */
  static String whitespace(String h, Rng rng) {
    List<Integer> at = structural(h);
    StringBuilder sb = new StringBuilder(h);
    int n = 1 + rng.nextInt(4);
    List<Integer> picks = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      picks.add(at.get(rng.nextInt(at.size())) + 1); // after the character
    }
    picks.sort((a, b) -> b - a);
    String ws = " \t\n\r";
    for (int p : picks) {
      sb.insert(p, ws.charAt(rng.nextInt(4)));
    }
    return sb.toString();
  }

  /** The same header with its top-level keys, and each tensor's keys, in a random order. */
  static String shuffled(String h, Rng rng) throws IOException {
    ObjectNode o = (ObjectNode) JSON.readTree(h);
    ObjectNode out = JSON.createObjectNode();
    for (String k : shuffle(o, rng)) {
      JsonNode v = o.get(k);
      if (k.equals("__metadata__")) {
        out.set(k, v);
      } else {
        ObjectNode t = out.putObject(k);
        for (String tk : shuffle((ObjectNode) v, rng)) {
          t.set(tk, v.get(tk));
        }
      }
    }
    return JSON.writeValueAsString(out);
  }

  private static List<String> shuffle(ObjectNode o, Rng rng) {
    List<String> keys = new ArrayList<>();
    o.fieldNames().forEachRemaining(keys::add);
    int[] idx = new int[keys.size()];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    rng.shuffle(idx);
    List<String> out = new ArrayList<>();
    for (int i : idx) {
      out.add(keys.get(i));
    }
    return out;
  }

  /** One number token (a dimension or an offset) replaced by another value. */
  static String number(String h, Rng rng) {
    List<int[]> spans = new ArrayList<>();
    boolean[] out = outsideStrings(h);
    for (int i = 0; i < h.length(); i++) {
      if (out[i] && Character.isDigit(h.charAt(i))) {
        int j = i;
        while (j < h.length() && Character.isDigit(h.charAt(j))) {
          j++;
        }
        spans.add(new int[] {i, j});
        i = j - 1;
      }
    }
    int[] s = spans.get(rng.nextInt(spans.size()));
    String old = h.substring(s[0], s[1]);
    String[] choices = {"0", "-1", "18446744073709551616", "18446744073709551615", "9223372036854775807", "1.0",
      "1e3", String.valueOf(Long.parseLong(old) + 1 + rng.nextInt(100)), String.valueOf(Math.max(0,
          Long.parseLong(old) - 1 - rng.nextInt(100)))};
    String v = choices[rng.nextInt(choices.length)];
    if (v.equals(old)) {
      v = old + "0";
    }
    return h.substring(0, s[0]) + v + h.substring(s[1]);
  }

  /** One string token (a key, a dtype, a metadata key or value) replaced by a random string. */
  static String string(String h, Rng rng) {
    List<int[]> spans = new ArrayList<>();
    for (int i = 0; i < h.length(); i++) {
      if (h.charAt(i) == '"') {
        int j = i + 1;
        while (h.charAt(j) != '"') {
          j += h.charAt(j) == '\\' ? 2 : 1;
        }
        spans.add(new int[] {i + 1, j});
        i = j;
      }
    }
    int[] s = spans.get(rng.nextInt(spans.size()));
    String old = h.substring(s[0], s[1]);
    String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789._F";
    StringBuilder v = new StringBuilder();
    do {
      v.setLength(0);
      for (int k = 0, n = rng.nextInt(12); k < n; k++) {
        v.append(alphabet.charAt(rng.nextInt(alphabet.length())));
      }
    } while (v.toString().equals(old));
    return h.substring(0, s[0]) + v + h.substring(s[1]);
  }

  /** The tensors stored in a random order, their offsets rewritten to match, the data checksum dropped. */
  static byte[] moved(String h, byte[] data, Rng rng) throws IOException {
    ObjectNode o = (ObjectNode) JSON.readTree(h);
    ((ObjectNode) o.get("__metadata__")).remove(SafeTensors.DATA_SHA256);
    List<String> names = new ArrayList<>();
    o.fieldNames().forEachRemaining(n -> {
      if (!n.equals("__metadata__")) {
        names.add(n);
      }
    });
    List<String> order = new ArrayList<>();
    int[] idx = new int[names.size()];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    rng.shuffle(idx);
    for (int i : idx) {
      order.add(names.get(i));
    }
    ByteArrayOutputStream d = new ByteArrayOutputStream();
    long off = 0;
    for (String n : order) {
      ObjectNode t = (ObjectNode) o.get(n);
      int b = t.get("data_offsets").get(0).intValue();
      int e = t.get("data_offsets").get(1).intValue();
      d.write(data, b, e - b);
      t.putArray("data_offsets").add(off).add(off + e - b);
      off += e - b;
    }
    return withHeader(JSON.writeValueAsString(o), d.toByteArray());
  }
}
