package io.github.pathsgd.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A user's own data set in NumPy form: a {@code .npz} archive ({@code numpy.savez} or {@code numpy.savez_compressed})
 * with the arrays {@code x_train}, {@code y_train}, {@code x_test}, {@code y_test} (the layout of Keras'
 * {@code mnist.npz}), or a folder holding those four arrays as {@code .npy} files.
 *
 * <p>Images: {@code N×H×W} (one channel), {@code N×H×W×C} (channels last, as Keras and NumPy image code keep them;
 * stored here as CHW) or {@code N×D} (flat vectors: one channel, height 1, width D). {@code uint8} values are scaled
 * to [0, 1] (divided by 255, as the built-in readers do); float16/32/64 values are taken as they are and must be
 * finite. Other integer image types are refused: their scale is not known. Labels: one integer per image ({@code N}
 * or {@code N×1}), from 0; the class count is the largest label of train and test plus one. Train and test must have
 * the same image shape. Extra arrays in the archive are ignored (and named in the provenance).
 */
public final class NumpyDatasets {
  /** The largest archive or {@code .npy} file accepted: 16 GiB (the arrays themselves must each fit 2^31 bytes). */
  static final long MAX_FILE = 16L << 30;

  /** The largest array accepted (bytes): a Java array's limit. */
  static final long MAX_ARRAY = Integer.MAX_VALUE - 64;

  static final List<String> ARRAYS = List.of("x_train", "y_train", "x_test", "y_test");

  private NumpyDatasets() {}

  /** Train and test sets read from a user's files, and the SHA-256 of each file (or member) read. */
  public record Read(Dataset train, Dataset test, Map<String, String> files) {}

  /** Whether {@code p} names NumPy data: a {@code .npz} file, or a folder with {@code x_train.npy}. */
  public static boolean accepts(Path p) {
    String n = p.getFileName() == null ? "" : p.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
    return n.endsWith(".npz") || Files.isDirectory(p) && Files.exists(p.resolve("x_train.npy"));
  }

  /**
   * Reads a {@code .npz} archive or a folder of four {@code .npy} files, within {@link MemoryBudget#bytes()}.
   *
   * @param name the data set's name in messages and in the datasets' names (e.g. the file's name)
   * @throws DataException naming the file, the array and what was expected
   */
  public static Read read(Path p, String name) {
    return read(p, name, MemoryBudget.bytes());
  }

  /**
   * Reads as {@link #read(Path, String)} does. The four headers are read first; what they declare (each array's
   * bytes, plus the floats and labels made from them) must fit {@code budget} bytes before any data is read, and
   * each array's data is read up to exactly its declared length (a file or member with more is refused at its
   * first extra byte).
   */
  static Read read(Path p, String name, long budget) {
    Map<String, NumpyArray> arrays = new LinkedHashMap<>();
    Map<String, String> files = new LinkedHashMap<>();
    if (Files.isDirectory(p)) {
      readFolder(p, arrays, files, budget);
    } else {
      readNpz(p, arrays, files, budget);
    }
    NumpyArray xtr = arrays.get("x_train");
    NumpyArray xte = arrays.get("x_test");
    imageShape(xtr);
    imageShape(xte);
    if (!Arrays.equals(Arrays.copyOfRange(xtr.shape(), 1, xtr.shape().length),
        Arrays.copyOfRange(xte.shape(), 1, xte.shape().length))) {
      throw new DataException(p + ": x_train images " + Arrays.toString(Arrays.copyOfRange(xtr.shape(), 1,
          xtr.shape().length)) + " and x_test images " + Arrays.toString(Arrays.copyOfRange(xte.shape(), 1,
          xte.shape().length)) + " differ in shape; expected the same shape");
    }
    int[] ytr = labels(arrays.get("y_train"), xtr, "y_train");
    int[] yte = labels(arrays.get("y_test"), xte, "y_test");
    int classes = 1 + Math.max(Arrays.stream(ytr).max().orElse(0), Arrays.stream(yte).max().orElse(0));
    return new Read(images(xtr, ytr, name + "/train", classes), images(xte, yte, name + "/test", classes), files);
  }

  /**
   * Refuses a declared set of arrays whose bytes, plus 4 bytes per element of the floats (images) and ints
   * (labels) made from them, exceed {@code budget}; and any one array beyond {@link #MAX_ARRAY} bytes.
   */
  private static void requireBudget(Path p, Map<String, NumpyArray.Header> headers, Map<String, String> sources,
      long budget) {
    long need = 0;
    StringBuilder what = new StringBuilder("the arrays");
    for (var e : headers.entrySet()) {
      NumpyArray.Header h = e.getValue();
      if (h.fileBytes() > MAX_ARRAY) {
        throw new DataException(sources.get(e.getKey()) + ": shape (" + h.dims() + ") of " + h.descr() + " needs "
            + h.fileBytes() + " bytes, more than the " + MAX_ARRAY + " accepted for one array");
      }
      need += h.fileBytes() + 4 * h.size();
      what.append(what.length() == 10 ? " " : ", ").append(e.getKey()).append(" (").append(h.dims()).append(") of ")
          .append(h.descr());
    }
    MemoryBudget.require(p.toString(), what + " as their headers declare, read and converted,", need, budget);
  }

  private static void readFolder(Path p, Map<String, NumpyArray> arrays, Map<String, String> files, long budget) {
    Map<String, NumpyArray.Header> headers = new LinkedHashMap<>();
    Map<String, String> sources = new LinkedHashMap<>();
    for (String a : ARRAYS) {
      Path f = p.resolve(a + ".npy");
      if (!Files.exists(f)) {
        throw new DataException(p + ": missing " + a + ".npy (a NumPy data folder holds x_train.npy, y_train.npy, "
            + "x_test.npy and y_test.npy)");
      }
      try {
        InputFiles.requireRegular(f, "NumPy array");
      } catch (IllegalArgumentException e) {
        throw new DataException(e.getMessage(), e);
      }
      try (InputStream in = Files.newInputStream(f)) {
        byte[] prefix = NumpyArray.readPrefix(in, f.toString());
        NumpyArray.Header h = NumpyArray.header(prefix, 0, prefix.length, f.toString());
        h.requireLength(f.toString(), Files.size(f));
        headers.put(a, h);
        sources.put(a, f.toString());
      } catch (IOException e) {
        throw new DataException(f + ": cannot read: " + e.getMessage(), e);
      }
    }
    requireBudget(p, headers, sources, budget);
    for (String a : ARRAYS) {
      Path f = p.resolve(a + ".npy");
      byte[] b = readFile(f, headers.get(a).fileBytes());
      files.put(f.toString(), Checksums.sha256Hex(b));
      arrays.put(a, NumpyArray.parse(b, 0, b.length, f.toString()));
    }
  }

  private static void readNpz(Path p, Map<String, NumpyArray> arrays, Map<String, String> files, long budget) {
    try {
      InputFiles.requireRegular(p, "NumPy archive");
    } catch (IllegalArgumentException e) {
      throw new DataException(e.getMessage(), e);
    }
    try (ZipFile z = new ZipFile(p.toFile())) {
      Enumeration<? extends ZipEntry> en = z.entries();
      List<String> extra = new java.util.ArrayList<>();
      Map<String, ZipEntry> members = new LinkedHashMap<>();
      while (en.hasMoreElements()) {
        ZipEntry e = en.nextElement();
        String member = e.getName();
        String a = member.endsWith(".npy") ? member.substring(0, member.length() - 4) : member;
        if (!ARRAYS.contains(a)) {
          extra.add(member);
          continue;
        }
        if (members.containsKey(a)) {
          throw new DataException(p + ": array " + a + " appears twice in the archive");
        }
        members.put(a, e);
      }
      for (String a : ARRAYS) {
        if (!members.containsKey(a)) {
          throw new DataException(p + ": the archive has no array " + a + " (expected x_train, y_train, x_test, "
              + "y_test; found " + (extra.isEmpty() ? "only " + members.keySet() : members.keySet() + " and "
              + extra) + ")");
        }
      }
      // the headers first: a member's declared shape is checked before its data is inflated
      Map<String, NumpyArray.Header> headers = new LinkedHashMap<>();
      Map<String, String> sources = new LinkedHashMap<>();
      for (String a : ARRAYS) {
        ZipEntry e = members.get(a);
        String src = p + "!" + e.getName();
        try (InputStream in = z.getInputStream(e)) {
          byte[] prefix = NumpyArray.readPrefix(in, src);
          NumpyArray.Header h = NumpyArray.header(prefix, 0, prefix.length, src);
          if (e.getSize() >= 0) {
            h.requireLength(src + " (size in the zip directory)", e.getSize());
          }
          headers.put(a, h);
          sources.put(a, src);
        }
      }
      requireBudget(p, headers, sources, budget);
      for (String a : ARRAYS) {
        ZipEntry e = members.get(a);
        String src = sources.get(a);
        NumpyArray.Header h = headers.get(a);
        byte[] b;
        try (InputStream in = z.getInputStream(e)) {
          b = readExactly(in, h, src); // the declared size is not trusted: inflation stops one byte past the header's
        }
        files.put(src, Checksums.sha256Hex(b));
        arrays.put(a, NumpyArray.parse(b, 0, b.length, src));
      }
      if (!extra.isEmpty()) {
        files.put(p + " (ignored members)", String.join(", ", extra));
      }
    } catch (ZipException e) {
      throw new DataException(p + ": not a readable .npz (zip) archive: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new DataException(p + ": cannot read: " + e.getMessage(), e);
    }
  }

  private static byte[] readFile(Path f, long declared) {
    try {
      byte[] b = InputFiles.readBounded(f, declared, "NumPy array"); // regular files only, size checked first
      return b;
    } catch (IllegalArgumentException e) {
      throw new DataException(e.getMessage(), e);
    } catch (IOException e) {
      throw new DataException(f + ": cannot read: " + e.getMessage(), e);
    }
  }

  /** Reads exactly the bytes {@code h} declares, and one more to refuse a longer member. */
  private static byte[] readExactly(InputStream in, NumpyArray.Header h, String src) throws IOException {
    byte[] b = new byte[(int) h.fileBytes()];
    int got = in.readNBytes(b, 0, b.length);
    if (got < b.length || in.read() >= 0) {
      h.requireLength(src, got < b.length ? got : b.length + 1L);
    }
    return b;
  }

  /** Refuses image arrays of a rank other than 2, 3 or 4 (a scalar included). */
  private static void imageShape(NumpyArray x) {
    int r = x.shape().length;
    if (r < 2 || r > 4) {
      throw new DataException(x.source() + ": images have shape " + Arrays.toString(x.shape())
          + "; expected N×D, N×H×W or N×H×W×C");
    }
  }

  /** The labels of {@code x}'s images: integers from 0, one per image. */
  static int[] labels(NumpyArray y, NumpyArray x, String what) {
    int[] s = y.shape();
    int n = x.shape().length == 0 ? 0 : x.shape()[0];
    if (!(s.length == 1 || s.length == 2 && s[1] == 1) || s[0] != n) {
      throw new DataException(y.source() + ": " + what + " has shape " + Arrays.toString(s) + "; expected (" + n
          + ",) or (" + n + ", 1): one label per image of " + x.source());
    }
    if (!y.isInteger() || y.kind() == 'b') {
      throw new DataException(y.source() + ": " + what + " has type " + y.dtype()
          + "; expected integer class labels (uint8, int32, int64, ...)");
    }
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      long v = y.getLong(i);
      if (v < 0 || v >= 1 << 16) {
        throw new DataException(y.source() + ": " + what + "[" + i + "] = " + v + "; expected a class label from 0 to "
            + ((1 << 16) - 1));
      }
      out[i] = (int) v;
    }
    return out;
  }

  /** The images of {@code x} as a {@link Dataset} (CHW rows), uint8 scaled by 1/255, floats checked finite. */
  static Dataset images(NumpyArray x, int[] y, String name, int classes) {
    int[] s = x.shape();
    int n;
    int c;
    int h;
    int w;
    switch (s.length) {
      case 2 -> { n = s[0]; c = 1; h = 1; w = s[1]; }
      case 3 -> { n = s[0]; c = 1; h = s[1]; w = s[2]; }
      case 4 -> { n = s[0]; h = s[1]; w = s[2]; c = s[3]; }
      default -> throw new DataException(x.source() + ": images have shape " + Arrays.toString(s)
          + "; expected N×D, N×H×W or N×H×W×C");
    }
    if (c == 0 || h == 0 || w == 0) {
      throw new DataException(x.source() + ": images have shape " + Arrays.toString(s) + "; every image dimension "
          + "must be at least 1");
    }
    boolean bytes = x.kind() == 'u' && x.itemSize() == 1;
    if (!bytes && x.kind() != 'f') {
      throw new DataException(x.source() + ": images have type " + x.dtype() + "; expected uint8 (scaled to [0, 1]) "
          + "or float16/32/64 (taken as they are)");
    }
    int d = c * h * w;
    float[] out = new float[Math.toIntExact((long) n * d)];
    for (int i = 0; i < n; i++) {
      for (int yy = 0; yy < h; yy++) {
        for (int xx = 0; xx < w; xx++) {
          for (int ch = 0; ch < c; ch++) {
            long src = (((long) i * h + yy) * w + xx) * c + ch; // NHWC
            double v = x.get(src);
            if (bytes) {
              v /= 255.0;
            } else if (!Double.isFinite(v) || Math.abs(v) > Float.MAX_VALUE) {
              throw new DataException(x.source() + ": element " + Arrays.toString(index(src, s)) + " is " + v
                  + "; expected finite float32 values");
            }
            out[i * d + (ch * h + yy) * w + xx] = (float) v;
          }
        }
      }
    }
    return new Dataset(name, out, y, n, c, h, w, classes);
  }

  private static long[] index(long flat, int[] shape) {
    long[] ix = new long[shape.length];
    for (int k = shape.length - 1; k >= 0; k--) {
      ix[k] = flat % shape[k];
      flat /= shape[k];
    }
    return ix;
  }
}
