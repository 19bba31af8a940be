package io.github.pathsgd.core.tensor;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * The BLAS calls the library uses, on {@link Tensor}s, through the OpenBLAS bundled by {@code org.bytedeco:openblas}.
 *
 * <p>All matrices are row-major. Offsets are in floats. No call copies: the tensors live in direct memory and their
 * address is handed to OpenBLAS. OpenBLAS keeps one global thread pool; {@link #setThreads(int)} sets its size for the
 * whole process (default: all available cores).
 */
public final class Blas {
  private static final int ROW_MAJOR;
  private static final int NO_TRANS;
  private static final int TRANS;
  private static volatile int threads;

  static {
    Loader.load(openblas_nolapack.class);
    ROW_MAJOR = openblas_nolapack.CblasRowMajor;
    NO_TRANS = openblas_nolapack.CblasNoTrans;
    TRANS = openblas_nolapack.CblasTrans;
    setThreads(Runtime.getRuntime().availableProcessors());
  }

  private Blas() {}

  /** Sets the OpenBLAS thread count for the process. {@code n <= 0} means all available cores. */
  public static synchronized void setThreads(int n) {
    int t = n <= 0 ? Runtime.getRuntime().availableProcessors() : n;
    openblas_nolapack.blas_set_num_threads(t);
    threads = t;
  }

  /** The thread count last set. */
  public static int threads() {
    return threads;
  }

  /** A description of the BLAS in use, for provenance. */
  public static String describe() {
    return "OpenBLAS (org.bytedeco:openblas 0.3.31-1.5.13, dynamic arch, kernel " + coreName() + "), threads="
        + threads + ", " + threadTimeout();
  }

  /**
   * OpenBLAS's kernel names, as {@code openblas_get_corename()} spells them and {@code OPENBLAS_CORETYPE} accepts them
   * (case-insensitively); the kernel tables of a dynamic-arch build are the symbols {@code gotoblas_} + the name in
   * upper case.
   */
  private static final String[] CORE_NAMES = {"Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Atom",
    "Core2", "Penryn", "Dunnington", "Nehalem", "Athlon", "Opteron", "Opteron_SSE3", "Barcelona", "Nano",
    "Sandybridge", "Bobcat", "Bulldozer", "Piledriver", "Haswell", "Steamroller", "Excavator", "Zen", "SkylakeX",
    "Cooperlake", "SapphireRapids"};

  private static volatile String coreName;

  /**
   * The OpenBLAS kernel in use in this process (e.g. "Haswell", "SkylakeX", "Zen"), what {@code
   * openblas_get_corename()} returns: the one the library picked for this CPU when it loaded, or the one the
   * environment variable {@code OPENBLAS_CORETYPE} forced. "unknown" when the library is not a dynamic-arch OpenBLAS.
   *
   * <p>{@code org.bytedeco}'s {@code openblas_nolapack} binding, the one this class uses, leaves out {@code
   * openblas_get_corename} (its presets skip the functions MKL lacks), and the {@code openblas_full} binding that has it
   * loads a second copy of OpenBLAS (with its own thread pool) into the process. So this does what {@code
   * openblas_get_corename} does in a dynamic-arch build ({@code gotoblas_corename} in OpenBLAS's
   * driver/others/dynamic.c): it compares the library's {@code gotoblas} pointer, the kernel table it selected, with
   * the address of each {@code gotoblas_NAME} table, looked up in the loaded library. It calls nothing and is cached.
   * BlasCoreNameTest checks it against {@code openblas_full}'s {@code openblas_get_corename} in a child JVM.
   */
  public static String coreName() {
    String c = coreName;
    if (c == null) {
      c = lookUpCoreName();
      coreName = c;
    }
    return c;
  }

  private static String lookUpCoreName() {
    Pointer selected = Loader.addressof("gotoblas");
    if (selected == null) {
      return "unknown";
    }
    long table = new LongPointer(selected).get();
    for (String name : CORE_NAMES) {
      Pointer p = Loader.addressof("gotoblas_" + name.toUpperCase(java.util.Locale.ROOT));
      if (p != null && table != 0 && p.address() == table) {
        return name;
      }
    }
    return "unknown";
  }

  /**
   * How long OpenBLAS's idle worker threads spin after a call before they sleep, as its environment variable {@code
   * OPENBLAS_THREAD_TIMEOUT} (read once, when the library loads) sets it: 2^n cycles, n in [4, 30], default 28. The
   * {@code pathsgd} launcher and the test runner set 20; with the default, the spinning workers take CPU time from
   * Java threads that run between GEMMs (Path-SGD's κ pass), see docs/performance.md.
   */
  public static String threadTimeout() {
    String v = System.getenv("OPENBLAS_THREAD_TIMEOUT");
    return v == null || v.isBlank() ? "OPENBLAS_THREAD_TIMEOUT unset (2^28 cycles)"
        : "OPENBLAS_THREAD_TIMEOUT=" + v.strip();
  }

  /**
   * C = alpha * op(A) * op(B) + beta * C, row-major. op(A) is (m, k), op(B) is (k, n), C is (m, n).
   *
   * @param transA whether A is stored as (k, m) and used transposed
   * @param transB whether B is stored as (n, k) and used transposed
   */
  public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
      Tensor a, int aOff, int lda, Tensor b, int bOff, int ldb, float beta, Tensor c, int cOff, int ldc) {
    checkRange(a, aOff, extent(transA ? k : m, transA ? m : k, lda), "A");
    checkRange(b, bOff, extent(transB ? n : k, transB ? k : n, ldb), "B");
    checkRange(c, cOff, extent(m, n, ldc), "C");
    openblas_nolapack.cblas_sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha,
        a.pointer(0, aOff), lda, b.pointer(1, bOff), ldb, beta, c.pointer(2, cOff), ldc);
  }

  /** Convenience form with tight leading dimensions. */
  public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
      Tensor a, int aOff, Tensor b, int bOff, float beta, Tensor c, int cOff) {
    sgemm(transA, transB, m, n, k, alpha, a, aOff, transA ? m : k, b, bOff, transB ? k : n, beta, c, cOff, n);
  }

  /**
   * C = alpha * op(A) * op(B) + beta * C in double, row-major, on direct {@link java.nio.DoubleBuffer}s from index 0
   * (no copy). op(A) is (m, k), op(B) is (k, n), C is (m, n).
   */
  public static void dgemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
      java.nio.DoubleBuffer a, int lda, java.nio.DoubleBuffer b, int ldb, double beta, java.nio.DoubleBuffer c,
      int ldc) {
    checkRange(a, extent(transA ? k : m, transA ? m : k, lda), "A");
    checkRange(b, extent(transB ? n : k, transB ? k : n, ldb), "B");
    checkRange(c, extent(m, n, ldc), "C");
    openblas_nolapack.cblas_dgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha, a,
        lda, b, ldb, beta, c, ldc);
  }

  private static void checkRange(java.nio.DoubleBuffer t, long len, String name) {
    if (!t.isDirect() || t.position() != 0 || len > t.capacity()) {
      throw new IndexOutOfBoundsException(name + ": " + len + " doubles from 0 of a " + (t.isDirect() ? "" : "non-")
          + "direct buffer of " + t.capacity() + " at position " + t.position());
    }
  }

  /** y[yOff..yOff+n) += alpha * x[xOff..xOff+n). */
  public static void saxpy(int n, float alpha, Tensor x, int xOff, Tensor y, int yOff) {
    checkRange(x, xOff, n, "x");
    checkRange(y, yOff, n, "y");
    openblas_nolapack.cblas_saxpy(n, alpha, x.pointer(0, xOff), 1, y.pointer(1, yOff), 1);
  }

  /**
   * Floats spanned by a row-major (rows, cols) matrix with leading dimension ld: the last row needs only cols, so a
   * block of columns of a wider matrix fits exactly.
   */
  static long extent(int rows, int cols, int ld) {
    return rows == 0 || cols == 0 ? 0 : (long) (rows - 1) * ld + cols;
  }

  private static void checkRange(Tensor t, int off, long len, String name) {
    if (off < 0 || off + len > t.size()) {
      throw new IndexOutOfBoundsException(name + ": [" + off + ", " + (off + len) + ") outside tensor of size " + t.size());
    }
  }
}
