package io.github.pathsgd.experiments.sweep;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A sweep process for {@link SweepConcurrencyTest}: the real {@link SweepRunner} on {@link SweepRunnerTest#TINY}.
 *
 * <p>Arguments: {@code OUT MARKER PAUSE_AT MODE}. After the epoch-1 checkpoint of the run it starts as its
 * PAUSE_AT-th (0-based), holding that run's lock, it writes the run id to MARKER and then, with MODE {@code hang},
 * sleeps until it is killed, or with MODE {@code go:FILE}, waits until FILE exists and goes on.
 */
public final class SweepChild {
  private SweepChild() {}

  public static void main(String[] args) {
    Path out = Path.of(args[0]);
    Path marker = Path.of(args[1]);
    int pauseAt = Integer.parseInt(args[2]);
    String mode = args[3];
    PrintStream log = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
    SweepHooks.CheckpointHook hook = (run, started, epoch) -> {
      if (started != pauseAt || epoch != 1) {
        return;
      }
      try {
        Path tmp = marker.resolveSibling(marker.getFileName() + ".tmp");
        Files.writeString(tmp, run.runId());
        Files.move(tmp, marker, StandardCopyOption.ATOMIC_MOVE);
        if (mode.equals("hang")) {
          while (true) {
            Thread.sleep(1000);
          }
        }
        Path go = Path.of(mode.substring("go:".length()));
        while (!Files.exists(go)) {
          Thread.sleep(20);
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
    SweepRunner.Outcome o = SweepRunnerTest.runner(out, SweepRunner.Options.of(out).withLog(log)
        .withListeners(SweepHooks.afterCheckpoint(hook))).run();
    log.println("outcome trained=" + o.trained() + " skipped=" + o.skipped() + " busy=" + o.busy());
    log.flush();
    System.exit(0);
  }
}
