package io.github.pathsgd.core.util;

/** Rethrowing, on the waiting thread, what a worker thread's task threw (κ chunks, the overlapped prepare). */
public final class Rethrow {
  private Rethrow() {}

  /**
   * Throws {@code t} as it is when it is unchecked, wrapped in an {@link IllegalStateException} ("WHAT failed: t")
   * when it is checked; does nothing when {@code t} is null.
   */
  public static void ifFailed(Throwable t, String what) {
    if (t instanceof RuntimeException e) {
      throw e;
    } else if (t instanceof Error e) {
      throw e;
    } else if (t != null) {
      throw new IllegalStateException(what + " failed: " + t, t);
    }
  }
}
