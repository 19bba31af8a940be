package io.github.pathsgd.cli;

import io.github.pathsgd.experiments.rundir.RunDirectory;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import io.github.pathsgd.train.listener.TrainingListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What {@code pathsgd experiments run} prints when Ctrl-C or SIGTERM stops it (issue 29 item 7), as {@code train}
 * does: how many of the planned runs are finished (their summary.json is on disk), which runs were in flight and where
 * (epoch, step and the epoch their checkpoint holds, {@link TrainCommand.WhereStopped}), and the command that resumes
 * the sweep (finished runs are skipped, the runs in flight resume from their checkpoints).
 */
final class SweepStopReport {
  private record Tracked(SweepRun run, TrainCommand.WhereStopped where) {}

  private final Path out;
  private final IntSupplier planned;
  private final String command;
  /** The runs whose training started in this process, in the order they started. */
  private final Map<String, Tracked> started = new LinkedHashMap<>();

  /**
   * @param out the sweep's folder
   * @param planned the runs planned so far ({@code SweepRunner::plannedRuns})
   * @param args the command line's arguments after {@code pathsgd}, as given
   */
  SweepStopReport(Path out, IntSupplier planned, List<String> args) {
    this.out = out;
    this.planned = planned;
    this.command = "pathsgd " + String.join(" ", args.stream().map(SweepStopReport::quote).toList());
  }

  /** The listener that follows run {@code r} while it trains. */
  synchronized TrainingListener track(SweepRun r) {
    TrainCommand.WhereStopped w = new TrainCommand.WhereStopped();
    started.put(r.runId(), new Tracked(r, w));
    return w;
  }

  /** The line printed on Ctrl-C or SIGTERM. */
  synchronized String line() {
    Path runs = out.resolve("runs");
    List<String> flying = new ArrayList<>();
    for (Tracked t : started.values()) {
      Path dir = runs.resolve(t.run().runId());
      if (Files.exists(dir.resolve("summary.json"))) {
        continue; // finished in this process
      }
      Path ckpt = RunDirectory.checkpoint(dir);
      String held = t.where().checkpoint(ckpt);
      flying.add("run " + (t.run().index() + 1) + " (" + t.run().runId() + ") " + t.where().at() + ", " + (held != null
          ? held : "no epoch checkpoint yet"));
    }
    return "pathsgd experiments run: stopped with " + finished(runs) + " of " + planned.getAsInt() + " planned runs "
        + "finished in " + out + "; " + (flying.isEmpty() ? "no run in flight" : "in flight: " + String.join("; ",
            flying)) + ". To resume (finished runs are skipped, runs in flight go on from their checkpoints): "
        + command;
  }

  /** The run folders under {@code runs} that hold a summary.json (finished, by this process or an earlier one). */
  private static long finished(Path runs) {
    if (!Files.isDirectory(runs)) {
      return 0;
    }
    try (Stream<Path> s = Files.list(runs)) {
      return s.filter(d -> Files.isRegularFile(d.resolve("summary.json"))).count();
    } catch (IOException e) {
      return 0;
    }
  }

  private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

  /** {@code a} as a POSIX shell word. */
  static String quote(String a) {
    return PLAIN.matcher(a).matches() ? a : "'" + a.replace("'", "'\\''") + "'";
  }
}
