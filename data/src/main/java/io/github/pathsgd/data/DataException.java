package io.github.pathsgd.data;

/**
 * The one exception type for anything wrong with a data set: a missing file, a file that is not in the expected
 * format (bad magic number, header counts that disagree with the byte length, truncated data, labels out of range),
 * a checksum mismatch, or a failed download. The message always names the file and, where it applies, the field or
 * byte offset and what was expected.
 */
public class DataException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** A data error with a message naming the file and what was wrong. */
  public DataException(String message) {
    super(message);
  }

  /** A data error caused by a lower-level exception (I/O, decompression, MAT-file parsing). */
  public DataException(String message, Throwable cause) {
    super(message, cause);
  }
}
