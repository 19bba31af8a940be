package io.github.pathsgd.core.step;

import java.util.concurrent.locks.LockSupport;

/**
 * A second thread that runs one task per training step while the calling thread runs the forward pass: the fold's
 * {@code prepare} (Path-SGD's κ pass over the weights and the inverse factors), which reads the parameters before the
 * step and is needed only by the backward pass. Neither the forward pass nor {@code prepare} writes what the other
 * reads (the forward pass reads the parameters and writes the activations; {@code prepare} reads the parameters and
 * writes the optimizer state and the fold), so the step computes exactly what it computes on one thread.
 *
 * <p>Hand-off without allocation: the caller publishes the task and unparks the worker; the worker runs it, publishes
 * the result through a volatile field and parks again; the caller spins briefly, then yields, until the result is
 * there. Each calling thread has one worker ({@link #forCurrentThread}), a daemon thread started on its first
 * overlapped step and parked between steps, shared by every {@link TrainStep} that thread runs.
 */
final class PrepareWorker implements Runnable {
  /** The task: returns the fold's verdict (the result of {@code prepare}). */
  @FunctionalInterface
  interface Task {
    boolean run();
  }

  private static final int IDLE = 0;
  private static final int SUBMITTED = 1;
  private static final int DONE = 2;

  private static final ThreadLocal<PrepareWorker> WORKERS = ThreadLocal.withInitial(PrepareWorker::new);

  private Task task;
  private volatile int phase = IDLE;
  private volatile boolean result;
  private volatile Throwable failure;
  private Thread thread;

  private PrepareWorker() {}

  /** The calling thread's worker. */
  static PrepareWorker forCurrentThread() {
    return WORKERS.get();
  }

  /** Starts {@code t} on the worker thread (starting the thread on first use); the worker must be idle. */
  void submit(Task t) {
    if (thread == null) {
      thread = new Thread(this, "pathsgd-prepare-" + Thread.currentThread().getName());
      thread.setDaemon(true);
      thread.start();
    }
    task = t; // published by the volatile write below
    failure = null;
    phase = SUBMITTED;
    LockSupport.unpark(thread);
  }

  /** Waits for the task submitted last and returns its result (rethrows what it threw). */
  boolean await() {
    int spins = 0;
    while (phase != DONE) {
      if (++spins < 1 << 14) {
        Thread.onSpinWait();
      } else {
        Thread.yield();
      }
    }
    phase = IDLE;
    io.github.pathsgd.core.util.Rethrow.ifFailed(failure, "the fold's prepare");
    return result;
  }

  @Override
  public void run() {
    while (true) {
      if (phase != SUBMITTED) {
        LockSupport.park(this);
        continue;
      }
      try {
        result = task.run();
      } catch (Throwable e) {
        failure = e;
        result = false;
      }
      phase = DONE;
    }
  }
}
