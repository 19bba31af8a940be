package io.github.pathsgd.data;

import java.nio.file.Path;

/**
 * Reader for the MNIST IDX format (LeCun), used by MNIST and Fashion-MNIST, raw or gzip (decided by the gzip magic
 * bytes, not the file name).
 *
 * <p>Images: big-endian magic {@code 0x00000803}, count N, rows, cols, then N x rows x cols unsigned bytes. Labels:
 * magic {@code 0x00000801}, count N, then N unsigned bytes. The header is checked against the actual (decompressed)
 * length before anything is allocated from it; image and label counts must agree; labels must be below the class
 * count. Pixels are scaled to [0,1] by {@code (b & 0xFF) / 255f}; output is 1 x rows x cols.
 */
public final class IdxReader {
  /** Magic number of an IDX file of unsigned bytes with 3 dimensions (images). */
  public static final int IMAGES_MAGIC = 0x00000803;
  /** Magic number of an IDX file of unsigned bytes with 1 dimension (labels). */
  public static final int LABELS_MAGIC = 0x00000801;

  private IdxReader() {}

  /**
   * Reads an image file and a label file.
   *
   * @param images the {@code *-idx3-ubyte[.gz]} file
   * @param labels the {@code *-idx1-ubyte[.gz]} file
   * @param name the data set name, e.g. {@code "mnist/train"}
   * @param numClasses labels must lie in {@code [0, numClasses)}
   * @throws DataException for a missing or malformed file
   */
  public static Dataset read(Path images, Path labels, String name, int numClasses) {
    return parse(RawFile.read(images, IMAGES_SIZE), RawFile.read(labels, LABELS_SIZE), name, numClasses);
  }

  /** The length an image file's header declares: a gzip file is never inflated beyond it. */
  static final RawFile.SizeRule IMAGES_SIZE = new RawFile.SizeRule() {
    @Override
    public int headerBytes() {
      return 16;
    }

    @Override
    public RawFile.Declared declared(String source, byte[] head) {
      return imageHeader(source, head);
    }
  };

  /** The length a label file's header declares. */
  static final RawFile.SizeRule LABELS_SIZE = new RawFile.SizeRule() {
    @Override
    public int headerBytes() {
      return 8;
    }

    @Override
    public RawFile.Declared declared(String source, byte[] head) {
      return labelHeader(source, head);
    }
  };

  private static int intAt(byte[] d, int off) {
    return (d[off] & 0xFF) << 24 | (d[off + 1] & 0xFF) << 16 | (d[off + 2] & 0xFF) << 8 | (d[off + 3] & 0xFF);
  }

  /** Checks the 16-byte image header (magic, count, sizes) and returns the length it implies. */
  static RawFile.Declared imageHeader(String src, byte[] d) {
    int magic = intAt(d, 0);
    if (magic != IMAGES_MAGIC) {
      throw new DataException(src + String.format(": bad IDX magic at byte offset 0: 0x%08x, expected 0x%08x "
          + "(unsigned-byte images, 3 dimensions)%s", magic, IMAGES_MAGIC,
          magic == LABELS_MAGIC ? "; this looks like a label file" : ""));
    }
    int n = intAt(d, 4);
    int rows = intAt(d, 8);
    int cols = intAt(d, 12);
    if (n < 0) {
      throw new DataException(src + ": IDX image count at byte offset 4 is " + n + ", expected >= 0");
    }
    if (rows <= 0 || cols <= 0 || rows > 65536 || cols > 65536) {
      throw new DataException(src + ": IDX image size at byte offsets 8/12 is " + rows + " x " + cols
          + ", expected positive sizes (28 x 28 for MNIST)");
    }
    return new RawFile.Declared(16 + (long) n * rows * cols, "IDX image header (count " + n + " at offset 4, "
        + rows + " x " + cols + ")");
  }

  /** Checks the 8-byte label header (magic, count) and returns the length it implies. */
  static RawFile.Declared labelHeader(String src, byte[] l) {
    int lmagic = intAt(l, 0);
    if (lmagic != LABELS_MAGIC) {
      throw new DataException(src + String.format(": bad IDX magic at byte offset 0: 0x%08x, expected 0x%08x "
          + "(unsigned-byte labels, 1 dimension)%s", lmagic, LABELS_MAGIC,
          lmagic == IMAGES_MAGIC ? "; this looks like an image file" : ""));
    }
    int ln = intAt(l, 4);
    if (ln < 0) {
      throw new DataException(src + ": IDX label count at byte offset 4 is " + ln + ", expected >= 0");
    }
    return new RawFile.Declared(8L + ln, "IDX label header (count " + ln + " at offset 4)");
  }

  static Dataset parse(RawFile img, RawFile lab, String name, int numClasses) {
    byte[] d = img.data();
    String src = img.source();
    if (d.length < 16) {
      throw new DataException(src + ": truncated IDX image header: " + d.length
          + " bytes (decompressed), expected at least 16");
    }
    RawFile.Declared hdr = imageHeader(src, d);
    int n = img.intAt(4);
    int rows = img.intAt(8);
    int cols = img.intAt(12);
    long expected = hdr.size();
    if (expected != d.length) {
      throw new DataException(src + ": IDX image header (count " + n + " at offset 4, " + rows + " x " + cols
          + ") implies " + expected + " bytes but the " + (img.gzip() ? "decompressed " : "") + "file has "
          + d.length + (expected > d.length ? " (truncated)" : " (trailing data)"));
    }
    byte[] l = lab.data();
    String lsrc = lab.source();
    if (l.length < 8) {
      throw new DataException(lsrc + ": truncated IDX label header: " + l.length
          + " bytes (decompressed), expected at least 8");
    }
    labelHeader(lsrc, l);
    int ln = lab.intAt(4);
    if (ln < 0 || 8L + ln != l.length) {
      throw new DataException(lsrc + ": IDX label count at byte offset 4 is " + ln + ", implying " + (8L + ln)
          + " bytes, but the " + (lab.gzip() ? "decompressed " : "") + "file has " + l.length);
    }
    if (ln != n) {
      throw new DataException(lsrc + ": " + ln + " labels (count at byte offset 4) but " + src + " has " + n
          + " images; the counts must match");
    }
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      int v = l[8 + i] & 0xFF;
      if (v >= numClasses) {
        throw new DataException(lsrc + ": label at byte offset " + (8 + i) + " (record " + i + ") is " + v
            + ", expected 0.." + (numClasses - 1));
      }
      y[i] = v;
    }
    float[] x = new float[d.length - 16];
    Pixels.toUnit(d, 16, x, 0, x.length);
    return new Dataset(name, x, y, n, 1, rows, cols, numClasses);
  }
}
