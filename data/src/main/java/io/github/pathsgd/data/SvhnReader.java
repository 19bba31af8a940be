package io.github.pathsgd.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import us.hebi.matlab.mat.format.BufferAllocator;
import us.hebi.matlab.mat.format.Mat5;
import us.hebi.matlab.mat.format.Mat5File;
import us.hebi.matlab.mat.format.Mat5Reader;
import us.hebi.matlab.mat.types.Array;
import us.hebi.matlab.mat.types.MatlabType;
import us.hebi.matlab.mat.types.Matrix;
import us.hebi.matlab.mat.types.Sources;

/**
 * Reader for SVHN "cropped digits" ({@code train_32x32.mat}, {@code test_32x32.mat}, {@code extra_32x32.mat}),
 * MATLAB level-5 files read with mfl-core.
 *
 * <p>{@code X} must be a uint8 array of size [32 32 3 N] in MATLAB column-major order, i.e. element
 * {@code X(row, col, ch, i)} at linear index {@code row + 32 col + 1024 ch + 3072 i}; {@code y} a numeric array of N
 * integral values 1..10 ([N 1] or [1 N]), where 10 means digit 0. Output: 3 x 32 x 32 CHW floats in [0,1], labels
 * 0..9 (label 10 becomes 0). Every MAT-file parsing failure, including allocation requests larger than the file can
 * justify, is reported as a {@link DataException} whose message is the parser's own (no Java exception names).
 *
 * <p>Memory: each root variable's header (type, dimensions, name) is checked before its data is inflated or
 * allocated: {@code X} and {@code y} must declare no more than {@link MemoryBudget} allows for their bytes plus the
 * floats and labels made from them (an eighth of the maximum heap: a 1 MB file that declares a 1 GB {@code X} is
 * refused from its header); other variables are skipped unread.
 */
public final class SvhnReader {
  private SvhnReader() {}

  /** Reads one or more SVHN .mat files and concatenates them in order. */
  public static Dataset read(List<Path> files, String name) {
    Dataset[] parts = new Dataset[files.size()];
    for (int i = 0; i < parts.length; i++) {
      parts[i] = parse(RawFile.read(files.get(i)), name, MemoryBudget.bytes());
    }
    return parts.length == 1 ? parts[0] : concat(name, parts);
  }

  static Dataset concat(String name, Dataset... parts) {
    long n = 0;
    for (Dataset d : parts) {
      n += d.n();
    }
    int dim = parts[0].dim();
    if (n * dim > RawFile.MAX_ARRAY) {
      throw new DataException(name + ": " + n + " images are more than one float array can hold");
    }
    float[] x = new float[(int) n * dim];
    int[] y = new int[(int) n];
    int at = 0;
    for (Dataset d : parts) {
      System.arraycopy(d.x(), 0, x, at * dim, d.n() * dim);
      System.arraycopy(d.y(), 0, y, at, d.n());
      at += d.n();
    }
    return new Dataset(name, x, y, (int) n, parts[0].channels(), parts[0].height(), parts[0].width(),
        parts[0].numClasses());
  }

  static Dataset parse(RawFile f, String name) {
    return parse(f, name, MemoryBudget.bytes());
  }

  /** Parses one SVHN MAT-file; {@code X} and {@code y} must declare at most {@code budget} bytes (see above). */
  static Dataset parse(RawFile f, String name, long budget) {
    String src = f.source();
    byte[] data = f.data();
    if (data.length < 128) {
      throw new DataException(src + ": truncated MAT-file: " + data.length
          + " bytes, expected a 128-byte MATLAB level-5 header and data");
    }
    long cap = Math.min(RawFile.MAX_ARRAY, data.length * 1100L + 65536L);
    BufferAllocator alloc = new BufferAllocator() {
      @Override
      public ByteBuffer allocate(int n) {
        if (n < 0 || n > cap) {
          throw new DataException(src + ": MAT-file asks for a buffer of " + n + " bytes, more than a file of "
              + data.length + " bytes can hold (corrupt size field)");
        }
        return ByteBuffer.allocate(n).order(Mat5.DEFAULT_ORDER);
      }

      @Override
      public void release(ByteBuffer buffer) {}
    };
    Mat5File mat;
    try {
      mat = Mat5.newReader(Sources.wrap(data)).setBufferAllocator(alloc)
          .setEntryFilter(h -> accept(h, src, budget)).readMat();
    } catch (OutOfMemoryError e) {
      throw new DataException(src + ": not enough memory to read the MAT-file (raise the heap limit: -Xmx, or "
          + "PATHSGD_JAVA_OPTS for the pathsgd script)", e);
    } catch (IOException | RuntimeException | StackOverflowError e) {
      DataException d = dataCause(e);
      if (d != null) {
        throw d;
      }
      throw new DataException(src + ": not a valid MATLAB level-5 MAT-file: " + message(e), e);
    }
    try {
      return convert(mat, src, name);
    } catch (DataException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new DataException(src + ": unexpected MAT-file content: " + message(e), e);
    } catch (OutOfMemoryError e) {
      throw new DataException(src + ": not enough memory to convert the MAT-file's images (raise the heap limit: "
          + "-Xmx, or PATHSGD_JAVA_OPTS for the pathsgd script)", e);
    }
  }

  /**
   * The entry filter: reads {@code X} and {@code y} only, after checking what their headers declare against the
   * budget; skips every other root variable.
   */
  private static boolean accept(Mat5Reader.EntryHeader h, String src, long budget) {
    String var = h.getName();
    if (!"X".equals(var) && !"y".equals(var)) {
      return false;
    }
    long elements = 1;
    for (int d : h.getDimensions()) {
      if (d < 0) {
        throw new DataException(src + ": variable " + var + " declares dimensions "
            + Arrays.toString(h.getDimensions()) + "; expected counts from 0");
      }
      elements = Math.multiplyExact(elements, (long) d);
      if (elements > Integer.MAX_VALUE) {
        throw new DataException(src + ": variable " + var + " declares dimensions "
            + Arrays.toString(h.getDimensions()) + ", more than " + Integer.MAX_VALUE + " elements");
      }
    }
    int bytes = switch (h.getType()) {
      case Int8, UInt8 -> 1;
      case Int16, UInt16 -> 2;
      case Int32, UInt32, Single -> 4;
      default -> 8;
    };
    long need = elements * bytes + 4 * elements; // its data, plus the floats (X) or int labels (y) made from it
    MemoryBudget.require(src, "variable " + var + " (" + h.getType() + " " + Arrays.toString(h.getDimensions())
        + ", as its header declares) read and converted", need, budget);
    return true;
  }

  /** The first {@link DataException} in {@code e}'s cause chain (the entry filter's, wrapped by the parser). */
  private static DataException dataCause(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof DataException d) {
        return d;
      }
    }
    return null;
  }

  /** The innermost message of {@code e}'s cause chain, without Java exception names. */
  static String message(Throwable e) {
    String m = null;
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t.getMessage() != null && !t.getMessage().isBlank() && (t.getCause() == null
          || !t.getMessage().equals(t.getCause().toString()))) {
        m = t.getMessage();
      }
    }
    if (m == null) {
      Throwable root = e;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      return root instanceof StackOverflowError ? "variables nested too deeply"
          : root instanceof java.nio.BufferUnderflowException || root instanceof java.io.EOFException
          ? "the data ends before what its tags declare (truncated or corrupt file)"
          : "no details given by the parser";
    }
    return m.replaceAll("\\b(?:java|javax|us)\\.[A-Za-z0-9_.$]*(?:Exception|Error): ", "");
  }

  private static Array find(Mat5File mat, String var, String src) {
    for (var e : mat.getEntries()) {
      if (var.equals(e.getName())) {
        return e.getValue();
      }
    }
    throw new DataException(src + ": MAT-file has no variable '" + var + "' (SVHN files hold X and y)");
  }

  private static Dataset convert(Mat5File mat, String src, String name) {
    Array xa = find(mat, "X", src);
    Array ya = find(mat, "y", src);
    int[] xd = xa.getDimensions();
    if (!(xa instanceof Matrix xm) || xa.getType() != MatlabType.UInt8 || xm.isComplex() || xd.length != 4
        || xd[0] != 32 || xd[1] != 32 || xd[2] != 3) {
      throw new DataException(src + ": variable X is " + xa.getType() + " " + Arrays.toString(xd)
          + ", expected uint8 [32 32 3 N]");
    }
    int n = xd[3];
    if (!(ya instanceof Matrix ym) || ym.isComplex() || ya.getNumElements() != n
        || ya.getNumDimensions() != 2 || Math.min(ya.getNumRows(), ya.getNumCols()) != 1 && n != 0) {
      throw new DataException(src + ": variable y is " + ya.getType() + " " + Arrays.toString(ya.getDimensions())
          + ", expected a numeric [" + n + " 1] vector (one label per image of X)");
    }
    if ((long) n * CifarReader.PIXELS > RawFile.MAX_ARRAY) {
      throw new DataException(src + ": X has " + n + " images, more than one float array can hold");
    }
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      double v = ym.getDouble(i);
      if (!(v >= 1 && v <= 10) || v != Math.rint(v)) {
        throw new DataException(src + ": y(" + (i + 1) + ") is " + v + ", expected an integer label 1..10");
      }
      y[i] = (int) v == 10 ? 0 : (int) v;
    }
    float[] x = new float[n * CifarReader.PIXELS];
    float[] lut = Pixels.LUT;
    for (int i = 0; i < n; i++) {
      for (int ch = 0; ch < 3; ch++) {
        int base = i * 3072 + ch * 1024;
        for (int c = 0; c < 32; c++) {
          for (int r = 0; r < 32; r++) {
            x[base + r * 32 + c] = lut[xm.getByte(base + c * 32 + r) & 0xFF];
          }
        }
      }
    }
    return new Dataset(name, x, y, n, 3, 32, 32, 10);
  }
}
