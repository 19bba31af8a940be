package io.github.pathsgd.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reader for the CIFAR-10 and CIFAR-100 binary versions (Krizhevsky 2009), raw or gzip (decided by magic bytes).
 *
 * <p>There is no header. CIFAR-10 files are sequences of 3,073-byte records: 1 label byte (0-9), then 1,024 red,
 * 1,024 green and 1,024 blue bytes, each plane 32 x 32 row-major. CIFAR-100 records have 3,074 bytes: coarse label
 * (0-19), fine label (0-99), then the 3,072 pixel bytes. Several files (e.g. {@code data_batch_1.bin} ...
 * {@code data_batch_5.bin}) are concatenated in the given order. The (decompressed) length of each file must be a
 * positive multiple of the record size. Output is 3 x 32 x 32 CHW in [0,1], exactly the file order.
 */
public final class CifarReader {
  /** Bytes per image (3 x 32 x 32). */
  public static final int PIXELS = 3072;
  /** CIFAR-10 record size. */
  public static final int RECORD10 = 1 + PIXELS;
  /** CIFAR-100 record size. */
  public static final int RECORD100 = 2 + PIXELS;

  private CifarReader() {}

  /** Reads and concatenates CIFAR-10 binary files (10 classes). */
  public static Dataset readCifar10(List<Path> files, String name) {
    return parse(raw(files), name, 1, 0, 10);
  }

  /**
   * Reads and concatenates CIFAR-100 binary files.
   *
   * @param coarse {@code true} for the 20 coarse (superclass) labels, {@code false} for the 100 fine labels
   */
  public static Dataset readCifar100(List<Path> files, String name, boolean coarse) {
    return parse(raw(files), name, 2, coarse ? 0 : 1, coarse ? 20 : 100);
  }

  static List<RawFile> raw(List<Path> files) {
    List<RawFile> out = new ArrayList<>();
    for (Path p : files) {
      out.add(RawFile.read(p));
    }
    return out;
  }

  /**
   * @param labelBytes bytes before the pixels in a record (1 for CIFAR-10, 2 for CIFAR-100)
   * @param labelIndex which of those bytes is the label
   */
  static Dataset parse(List<RawFile> files, String name, int labelBytes, int labelIndex, int numClasses) {
    int rec = labelBytes + PIXELS;
    long total = 0;
    for (RawFile f : files) {
      int len = f.data().length;
      if (len == 0) {
        throw new DataException(f.source() + ": empty " + (f.gzip() ? "(decompressed) " : "")
            + "file, expected records of " + rec + " bytes");
      }
      if (len % rec != 0) {
        long last = (long) (len / rec) * rec;
        throw new DataException(f.source() + ": " + (f.gzip() ? "decompressed " : "") + "length " + len
            + " is not a multiple of the " + rec + "-byte record size (" + (rec == RECORD10 ? "CIFAR-10" : "CIFAR-100")
            + "); the record at byte offset " + last + " is truncated to " + (len - last) + " bytes");
      }
      total += len / rec;
    }
    if (total * PIXELS > RawFile.MAX_ARRAY) {
      throw new DataException(files.get(0).source() + " ...: " + total + " records are more than one float array"
          + " can hold");
    }
    int n = (int) total;
    float[] x = new float[n * PIXELS];
    int[] y = new int[n];
    int i = 0;
    for (RawFile f : files) {
      byte[] d = f.data();
      int m = d.length / rec;
      for (int r = 0; r < m; r++, i++) {
        int off = r * rec;
        int v = d[off + labelIndex] & 0xFF;
        if (v >= numClasses) {
          throw new DataException(f.source() + ": label at byte offset " + (off + labelIndex) + " (record " + r
              + ") is " + v + ", expected 0.." + (numClasses - 1));
        }
        y[i] = v;
        Pixels.toUnit(d, off + labelBytes, x, i * PIXELS, PIXELS);
      }
    }
    return new Dataset(name, x, y, n, 3, 32, 32, numClasses);
  }
}
