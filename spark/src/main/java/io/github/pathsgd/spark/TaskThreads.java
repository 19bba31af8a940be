package io.github.pathsgd.spark;

import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Spark task's threads: the task's training runs inside a fork-join pool of its own, of {@code spark.task.cpus}
 * threads, so that Path-SGD's κ work (core's {@code ChunkJob}, which forks into the caller's own pool when it has
 * one, else into the JVM-wide common pool) runs on at most that many threads, the training thread included, instead
 * of on as many as the common pool has. The pool's threads carry the task thread's context class loader (the app
 * jar's, on an executor) and are named {@code pathsgd-task-N-kappa-K}.
 */
final class TaskThreads {
  private TaskThreads() {}

  private static final AtomicLong POOLS = new AtomicLong();

  /**
   * What one call's pool did, for tests: the threads it was sized for, the thread that ran the task's body, and the
   * threads that ran work forked into the pool ({@code execute(Runnable)}: the κ pass's chunk workers) with how many
   * were forked.
   */
  record Use(int cpus, String body, Set<String> forkedTo, int forks) {}

  private static final List<Use> SEEN = new CopyOnWriteArrayList<>();

  /** The pools of the last thousand calls in this JVM, in order (tests read them in Spark local mode). */
  static List<Use> seen() {
    return List.copyOf(SEEN);
  }

  /** The task's pool: notes which threads run the work forked into it with {@code execute(Runnable)}. */
  private static final class TaskPool extends ForkJoinPool {
    final Set<String> forkedTo = ConcurrentHashMap.newKeySet();
    final AtomicInteger forks = new AtomicInteger();

    TaskPool(int cpus, ForkJoinWorkerThreadFactory factory) {
      super(cpus, factory, null, false);
    }

    @Override
    public void execute(Runnable r) {
      forks.incrementAndGet();
      super.execute(() -> {
        forkedTo.add(Thread.currentThread().getName());
        r.run();
      });
    }
  }

  /** Runs {@code body} on a worker of a new fork-join pool of {@code cpus} threads and returns what it returns. */
  static <T> T call(int cpus, Callable<T> body) throws Exception {
    if (cpus < 1) {
      throw new IllegalArgumentException("spark.task.cpus must be >= 1, got " + cpus);
    }
    String prefix = "pathsgd-task-" + POOLS.incrementAndGet() + "-kappa-";
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    AtomicLong made = new AtomicLong();
    ForkJoinPool.ForkJoinWorkerThreadFactory factory = p -> {
      ForkJoinWorkerThread w = new ForkJoinWorkerThread(p) {};
      w.setName(prefix + made.getAndIncrement()); // (its pool index is not assigned yet)
      w.setContextClassLoader(cl);
      w.setDaemon(true);
      return w;
    };
    TaskPool pool = new TaskPool(cpus, factory);
    CompletableFuture<T> result = new CompletableFuture<>();
    String[] ranOn = {null};
    // the task's thread only waits: it never runs the body itself (as ForkJoinTask.get could, taking it back)
    pool.execute(ForkJoinTask.adapt(() -> {
      ranOn[0] = Thread.currentThread().getName();
      try {
        result.complete(body.call());
      } catch (Throwable e) {
        result.completeExceptionally(e);
      }
    }));
    try {
      return result.get();
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof Exception x) {
        throw x;
      }
      if (c instanceof Error x) {
        throw x;
      }
      throw e;
    } catch (InterruptedException e) { // the task was killed: so is its training, as far as it heeds interrupts
      pool.shutdownNow();
      throw e;
    } finally {
      pool.shutdownNow();
      SEEN.add(new Use(cpus, ranOn[0], Set.copyOf(pool.forkedTo), pool.forks.get()));
      if (SEEN.size() > 1000) { // a long-lived executor: the last thousand tasks' only
        SEEN.remove(0);
      }
    }
  }
}
