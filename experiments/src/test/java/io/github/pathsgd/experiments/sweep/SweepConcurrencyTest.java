package io.github.pathsgd.experiments.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two sweeps into one folder: two JVMs (one killed with destroyForcibly while it trains a run), and two threads (one
 * waiting for the other's run). Every run is trained once, no finished run's files change, and the combined
 * metrics.csv is an uninterrupted sweep's.
 */
class SweepConcurrencyTest {
  private static final Pattern TRAINED = Pattern.compile(
      "^\\[\\d+/8\\] ([0-9a-f]{12}) .*: (completed|diverged) after \\d+ epochs( \\(resumed after epoch (\\d+)\\))?,");

  /** Bytes and modification time of a file. */
  record Snap(byte[] bytes, long mtime) {
    static Snap of(Path f) throws IOException {
      return new Snap(Files.readAllBytes(f), Files.getLastModifiedTime(f).toMillis());
    }

    boolean same(Snap o) {
      return Arrays.equals(bytes, o.bytes) && mtime == o.mtime;
    }
  }

  @Test
  void aKilledSweepProcessLosesNothingAndEveryRunIsTrainedOnce(@TempDir Path tmp) throws Exception {
    Path ref = tmp.resolve("ref");
    SweepRunnerTest.runner(ref, SweepRunner.Options.of(ref)).run();
    Path out = tmp.resolve("out");
    List<SweepRun> plan = SweepRunnerTest.runner(out, SweepRunner.Options.of(out)).plan();
    Path go = tmp.resolve("go");

    // A pauses in its third run (index 2) after epoch 1, holding that run's lock
    Process a = child(tmp, "a", out, 2, "go:" + go);
    Process b = null;
    try {
      assertThat(await(tmp, "a", a)).isEqualTo(plan.get(2).runId());
      Map<Path, Snap> finished = snapshot(out, plan.subList(0, 2));

      // B skips runs 0 and 1 (done) and 2 (A's), trains 3, and is killed in 4 after its epoch-1 checkpoint
      b = child(tmp, "b", out, 1, "hang");
      assertThat(await(tmp, "b", b)).isEqualTo(plan.get(4).runId());
      b.destroyForcibly();
      assertThat(b.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(out.resolve("runs").resolve(plan.get(4).runId()).resolve("checkpoint.bin")).exists();
      finished.putAll(snapshot(out, plan.subList(3, 4)));

      Files.createFile(go);
      assertThat(a.waitFor(300, TimeUnit.SECONDS)).isTrue();
      String logA = Files.readString(tmp.resolve("a.log"));
      assertThat(a.exitValue()).as(logA).isZero();
      String logB = Files.readString(tmp.resolve("b.log"));

      Map<String, String> byA = trained(logA);
      Map<String, String> byB = trained(logB);
      List<String> all = new ArrayList<>(byA.keySet());
      all.addAll(byB.keySet());
      assertThat(all).as("runs trained by A and B").containsExactlyInAnyOrderElementsOf(
          plan.stream().map(SweepRun::runId).toList());
      assertThat(byB).containsOnlyKeys(plan.get(3).runId());
      // A takes over B's run 4 from B's epoch-1 checkpoint rather than training it again
      assertThat(byA.get(plan.get(4).runId())).isEqualTo("1");
      assertThat(byA.get(plan.get(2).runId())).isEmpty(); // paused, not interrupted
      assertThat(logA).contains("outcome trained=7 skipped=1 busy=0");
      assertThat(logB).contains("[3/8] " + plan.get(2).runId() + " ").contains(
          ": being trained by another sweep (pid " + a.pid() + " on host ");
      assertThat(logB).contains("[1/8] " + plan.get(0).runId()).contains(": already done, skipped");

      for (Map.Entry<Path, Snap> e : finished.entrySet()) {
        assertThat(Snap.of(e.getKey()).same(e.getValue())).as("unchanged: " + e.getKey()).isTrue();
      }
      assertThat(out.resolve("metrics.csv")).hasBinaryContent(Files.readAllBytes(ref.resolve("metrics.csv")));
      assertThat(Files.readAllLines(out.resolve("runs.jsonl"))).hasSize(8);
      try (Stream<Path> s = Files.walk(out.resolve("runs"))) {
        assertThat(s.filter(p -> p.getFileName().toString().equals("checkpoint.bin")).toList()).isEmpty();
      }
    } finally {
      a.destroyForcibly();
      if (b != null) {
        b.destroyForcibly();
      }
    }
  }

  @Test
  void aSecondSweepThreadWaitsForTheRunTheFirstHoldsAndTrainsTheRest(@TempDir Path tmp) throws Exception {
    Path ref = tmp.resolve("ref");
    SweepRunnerTest.runner(ref, SweepRunner.Options.of(ref)).run();
    Path out = tmp.resolve("out");
    List<SweepRun> plan = SweepRunnerTest.runner(out, SweepRunner.Options.of(out)).plan();
    CountDownLatch paused = new CountDownLatch(1);
    CountDownLatch resume = new CountDownLatch(1);
    ByteArrayOutputStream log2 = new ByteArrayOutputStream();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicReference<SweepRunner.Outcome> o1 = new AtomicReference<>();
    AtomicReference<SweepRunner.Outcome> o2 = new AtomicReference<>();
    Thread t1 = new Thread(() -> {
      try {
        o1.set(SweepRunnerTest.runner(out, SweepRunner.Options.of(out).withListeners(SweepHooks.afterCheckpoint((r, n,
            epoch) -> {
          if (n == 2 && epoch == 1) {
            paused.countDown();
            try {
              resume.await();
            } catch (InterruptedException e) {
              throw new IllegalStateException(e);
            }
          }
        }))).run());
      } catch (Throwable e) {
        failure.set(e);
        paused.countDown();
      }
    });
    t1.start();
    assertThat(paused.await(120, TimeUnit.SECONDS)).isTrue();
    Map<Path, Snap> finished = snapshot(out, plan.subList(0, 2));
    Thread t2 = new Thread(() -> {
      try {
        o2.set(SweepRunnerTest.runner(out, SweepRunner.Options.of(out)
            .withLog(new PrintStream(log2, true, StandardCharsets.UTF_8))).run());
      } catch (Throwable e) {
        failure.set(e);
      }
    });
    t2.start();
    String waiting = "[3/8] " + plan.get(2).runId();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!text(log2).contains(": waiting for pid " + ProcessHandle.current().pid() + " on host ")
        && t2.isAlive() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    String seen = text(log2);
    assertThat(seen).contains(waiting).contains(": being trained by another sweep (pid "
        + ProcessHandle.current().pid() + " on host ").contains(", which is training it");
    for (int i = 3; i < 8; i++) {
      finished.putAll(snapshot(out, plan.subList(i, i + 1)));
    }
    resume.countDown();
    t1.join(120_000);
    t2.join(120_000);
    assertThat(failure.get()).isNull();
    assertThat(o1.get().trained()).isEqualTo(3);
    assertThat(o1.get().skipped()).isEqualTo(5);
    assertThat(o2.get().trained()).isEqualTo(5);
    assertThat(o2.get().skipped()).isEqualTo(3);
    assertThat(o2.get().busy()).isZero();
    assertThat(text(log2)).contains(waiting + " " + SweepRunner.label(plan.get(2)) + ": already done (by another sweep)"
        + ", skipped");
    for (Map.Entry<Path, Snap> e : finished.entrySet()) {
      assertThat(Snap.of(e.getKey()).same(e.getValue())).as("unchanged: " + e.getKey()).isTrue();
    }
    assertThat(out.resolve("metrics.csv")).hasBinaryContent(Files.readAllBytes(ref.resolve("metrics.csv")));
  }

  private static String text(ByteArrayOutputStream b) {
    synchronized (b) {
      return b.toString(StandardCharsets.UTF_8);
    }
  }

  /** Run id to "" (trained from scratch) or the epoch it resumed after, from a sweep's log. */
  private static Map<String, String> trained(String log) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String l : log.split("\n")) {
      Matcher x = TRAINED.matcher(l);
      if (x.find()) {
        assertThat(m.put(x.group(1), x.group(4) == null ? "" : x.group(4))).as("trained twice: " + l).isNull();
      }
    }
    return m;
  }

  private static Map<Path, Snap> snapshot(Path out, List<SweepRun> runs) throws IOException {
    Map<Path, Snap> m = new HashMap<>();
    for (SweepRun r : runs) {
      Path d = out.resolve("runs").resolve(r.runId());
      assertThat(d.resolve("summary.json")).exists();
      for (String f : List.of("summary.json", "config.json", "metrics.csv")) {
        m.put(d.resolve(f), Snap.of(d.resolve(f)));
      }
    }
    return m;
  }

  /** Starts {@link SweepChild} in a JVM of its own, with the test classpath; stdout and stderr to tmp/NAME.log. */
  private static Process child(Path tmp, String name, Path out, int pauseAt, String mode) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-Djava.awt.headless=true"));
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
      cmd.add("--add-modules");
      cmd.add("jdk.incubator.vector"); // as this JVM runs, so both compute alike
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), SweepChild.class.getName(), out.toString(),
        tmp.resolve(name + ".marker").toString(), String.valueOf(pauseAt), mode));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(tmp.resolve(name + ".log").toFile());
    pb.environment().put("PATHSGD_GIT_COMMIT", "test"); // no git process in the child
    return pb.start();
  }

  /** Waits until the child has written its marker (the run id it paused in); fails with its log if it ends first. */
  private static String await(Path tmp, String name, Process p) throws Exception {
    Path marker = tmp.resolve(name + ".marker");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    while (!Files.exists(marker)) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        throw new AssertionError(name + " did not pause (exit " + (p.isAlive() ? "none" : p.exitValue()) + "): "
            + Files.readString(tmp.resolve(name + ".log")));
      }
      Thread.sleep(20);
    }
    return Files.readString(marker);
  }
}
