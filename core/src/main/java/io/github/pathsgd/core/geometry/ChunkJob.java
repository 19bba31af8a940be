package io.github.pathsgd.core.geometry;

/**
 * The work splitter of the p = 2 κ pass ({@link KappaPass}): chunks [0, n) of one pass shared by the calling thread
 * (slot 0) and fork-join workers (slots 1..; of the caller's pool when it is a fork-join worker, else of the common pool),
 * which claim chunks from a counter. {@link #run} returns when every chunk
 * is done; a worker that starts after that finds no chunk and ends without touching anything. The chunks do not
 * depend on the number of threads, so the result is bit-identical for any number of threads.
 */
final class ChunkJob {
  /** Chunk {@code c} of a pass, run by thread slot {@code slot} (which selects the thread's scratch rows). */
  @FunctionalInterface
  interface ChunkTask {
    void run(int chunk, int slot);
  }

  private final int n;
  private final ChunkTask task;
  private final java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
  private final java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
  private volatile Throwable failure;

  ChunkJob(int n, ChunkTask task) {
    this.n = n;
    this.task = task;
  }

  void run(int threads) {
    // the caller's own fork-join pool when it runs in one (a Spark task's, sized by spark.task.cpus), else the common
    java.util.concurrent.ForkJoinPool own = java.util.concurrent.ForkJoinTask.getPool();
    for (int s = 1; s < threads; s++) {
      int slot = s;
      (own != null ? own : java.util.concurrent.ForkJoinPool.commonPool()).execute(() -> work(slot));
    }
    work(0);
    int spins = 0;
    while (done.get() < n) {
      if (++spins < 1 << 12) {
        Thread.onSpinWait();
      } else {
        Thread.yield();
      }
    }
    io.github.pathsgd.core.util.Rethrow.ifFailed(failure, "κ computation");
  }

  private void work(int slot) {
    for (int c; (c = next.getAndIncrement()) < n; ) {
      try {
        task.run(c, slot);
      } catch (Throwable t) {
        failure = t;
      } finally {
        done.incrementAndGet();
      }
    }
  }
}
