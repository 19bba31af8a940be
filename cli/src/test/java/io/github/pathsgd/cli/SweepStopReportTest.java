package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real SIGTERM to a {@code pathsgd experiments run} process (issue 29 item 7): it says how many of the planned runs
 * are finished, which run was in flight and where, and the command that resumes the sweep; that command, run again,
 * skips the finished run and resumes the other.
 */
class SweepStopReportTest {
  static Process start(List<String> args, Path log) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(args);
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  /** Polls (whatever the machine's speed) until {@code done} holds or the process ends; then SIGTERM. */
  static void stopWhen(Process p, Path log, java.util.function.BooleanSupplier done) throws Exception {
    try {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      while (!done.getAsBoolean() && p.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(done.getAsBoolean()).as(Files.readString(log)).isTrue();
      p.destroy(); // SIGTERM on Unix
      assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    } finally {
      p.destroyForcibly();
    }
  }

  /** The run folders under {@code runs} holding {@code file}. */
  static List<Path> holding(Path runs, String file) {
    if (!Files.isDirectory(runs)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(runs)) {
      return s.filter(d -> Files.exists(d.resolve(file))).toList();
    } catch (java.io.IOException e) {
      return List.of();
    }
  }

  @Test
  void sigtermSaysWhereTheSweepStoppedAndTheCommandThatResumesIt(@TempDir Path tmp) throws Exception {
    // two runs: the first trains one epoch and finishes, the second would train for hours
    Path sweep = tmp.resolve("stop-me.yaml");
    Files.writeString(sweep, "name: stop-me\nbase: {dataset: mnist-sample, hidden: [64], per_class_train: 50, "
        + "validation_size: 0, threads: 1}\ngrid: {epochs: [1, 100000]}\n");
    Path out = tmp.resolve("out");
    Path runs = out.resolve("runs");
    List<String> args = List.of("experiments", "run", sweep.toString(), "--scale", "quick", "--out", out.toString());
    Path log = tmp.resolve("log.txt");
    Process p = start(args, log);
    // the first run's summary.json and the second's first epoch checkpoint on disk, then SIGTERM
    stopWhen(p, log, () -> holding(runs, "summary.json").size() == 1 && holding(runs, "checkpoint.bin").stream()
        .anyMatch(d -> !Files.exists(d.resolve("summary.json"))));
    Path finished = holding(runs, "summary.json").get(0);
    Path flying = holding(runs, "checkpoint.bin").stream().filter(d -> !d.equals(finished)).findFirst().orElseThrow();
    String text = Files.readString(log, StandardCharsets.UTF_8);
    String line = text.lines().filter(l -> l.startsWith("pathsgd experiments run: stopped")).findFirst()
        .orElse(text);
    String resume = "pathsgd experiments run " + sweep + " --scale quick --out " + out;
    Matcher m = Pattern.compile("pathsgd experiments run: stopped with 1 of 2 planned runs finished in "
        + Pattern.quote(out.toString()) + "; in flight: run 2 \\(" + flying.getFileName() + "\\) in epoch (\\d+) of "
        + "100000 \\(step \\d+ of 5\\), " + Pattern.quote(flying.resolve("checkpoint.bin").toString()) + " holds "
        + "epoch (\\d+)\\. To resume \\(finished runs are skipped, runs in flight go on from their checkpoints\\): "
        + Pattern.quote(resume)).matcher(line);
    assertThat(m.matches()).as(line).isTrue();
    int in = Integer.parseInt(m.group(1));
    int held = Integer.parseInt(m.group(2));
    assertThat(held).isPositive().isBetween(in - 1, in);

    // the printed command resumes: the finished run is skipped, the other goes on from the epoch its checkpoint holds
    // (polled: its checkpoint rewritten by the new process, i.e. an epoch after the resume is done)
    List<String> again = List.of(resume.substring("pathsgd ".length()).split(" "));
    Path log2 = tmp.resolve("log2.txt");
    Path metrics = flying.resolve("metrics.csv");
    Path ckpt = flying.resolve("checkpoint.bin");
    java.nio.file.attribute.FileTime before = Files.getLastModifiedTime(ckpt);
    Process q = start(again, log2);
    stopWhen(q, log2, () -> {
      try {
        return Files.readString(log2).contains(finished.getFileName() + " ") && Files.exists(ckpt)
            && Files.getLastModifiedTime(ckpt).compareTo(before) > 0;
      } catch (java.io.IOException e) {
        return false;
      }
    });
    String text2 = Files.readString(log2);
    assertThat(text2).containsPattern("\\[1/2\\] " + finished.getFileName() + " .*: already done, skipped");
    assertThat(Files.readAllLines(metrics).stream().filter(l -> l.matches("[0-9a-f]{12},1,train,loss,.*")))
        .hasSize(1);
    String line2 = text2.lines().filter(l -> l.startsWith("pathsgd experiments run: stopped")).findFirst()
        .orElse(text2);
    Matcher m2 = Pattern.compile("pathsgd experiments run: stopped with 1 of 2 planned runs finished in "
        + Pattern.quote(out.toString()) + "; in flight: run 2 \\(" + flying.getFileName() + "\\) in epoch (\\d+) of "
        + "100000 \\(step \\d+ of 5\\), " + Pattern.quote(ckpt.toString()) + " holds epoch (\\d+)\\. To resume .*: "
        + Pattern.quote(resume)).matcher(line2);
    assertThat(m2.matches()).as(line2).isTrue();
    assertThat(Integer.parseInt(m2.group(2))).isGreaterThan(held);
  }

  @Test
  void argumentsAreQuotedForTheShell() {
    assertThat(SweepStopReport.quote("out/rescaling")).isEqualTo("out/rescaling");
    assertThat(SweepStopReport.quote("base.epochs=3")).isEqualTo("base.epochs=3");
    assertThat(SweepStopReport.quote("grid.lr=[0.1, 0.2]")).isEqualTo("'grid.lr=[0.1, 0.2]'");
    assertThat(SweepStopReport.quote("it's")).isEqualTo("'it'\\''s'");
  }
}
