package io.github.pathsgd.data;

/**
 * The memory a user's data set ({@code .npz}, {@code .npy} folder, image folder) or an SVHN {@code .mat} file may
 * take once decoded: an eighth of this JVM's maximum heap ({@code Runtime.maxMemory()}, set by {@code -Xmx};
 * {@code PATHSGD_JAVA_OPTS} for the {@code pathsgd} script, 12 GiB by default there, so 1.5 GiB). Loading holds up to
 * three copies of the floats at once (the set as read, the validation split, the preprocessed set); the rest is for
 * training. What a file declares (a {@code .npy}
 * header's shape, a PNG or JPEG header's size, a MAT-file's array dimensions) is checked against this budget before
 * anything is inflated or allocated, and the error names the file, the sizes and the budget.
 */
final class MemoryBudget {
  private MemoryBudget() {}

  /** An eighth of the maximum heap ({@link Long#MAX_VALUE} when the JVM has no limit). */
  static long bytes() {
    long max = Runtime.getRuntime().maxMemory();
    return max == Long.MAX_VALUE ? Long.MAX_VALUE : max / 8;
  }

  /**
   * Refuses {@code need} bytes beyond {@code budget}.
   *
   * @param what what needs the bytes, e.g. {@code "3 images of 3 x 8192 x 8192 pixels as floats"}
   */
  static void require(String source, String what, long need, long budget) {
    if (need > budget) {
      throw new DataException(source + ": " + what + " need " + need + " bytes, more than the " + budget
          + " bytes a data set may take (" + describe(budget) + ")");
    }
  }

  /** Where the budget comes from, for messages. */
  static String describe(long budget) {
    long max = Runtime.getRuntime().maxMemory();
    if (budget == bytes() && max != Long.MAX_VALUE) {
      return "an eighth of this JVM's maximum heap of " + (max >> 20) + " MiB; raise it with -Xmx, or "
          + "PATHSGD_JAVA_OPTS for the pathsgd script";
    }
    return "the budget given to the reader";
  }
}
