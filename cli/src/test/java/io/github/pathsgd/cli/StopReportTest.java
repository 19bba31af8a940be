package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real SIGTERM to a {@code pathsgd train} process (issue 29 item 7): it says where the run stopped and how to resume,
 * and rerunning the same command resumes from the checkpoint it names.
 */
class StopReportTest {
  static Process start(Path out, Path log) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "train", "--hidden", "64", "--epochs", "10000", "--per-class-train", "50", "--validation-size", "0",
        "--threads", "1", "--quiet", "--out", out.toString()));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  @Test
  void sigtermSaysWhereTheRunStoppedAndHowToResume(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("run");
    Path log = tmp.resolve("log.txt");
    Process p = start(out, log);
    try {
      // the first epoch checkpoint on disk (polled, whatever the machine's speed), then SIGTERM
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      while (!Files.exists(out.resolve("checkpoint.bin")) && p.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(Files.exists(out.resolve("checkpoint.bin"))).as(Files.readString(log)).isTrue();
      p.destroy(); // SIGTERM on Unix
      assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    } finally {
      p.destroyForcibly();
    }
    String text = Files.readString(log, StandardCharsets.UTF_8);
    String line = text.lines().filter(l -> l.startsWith("pathsgd train ")).findFirst().orElse(text);
    assertThat(line).matches("pathsgd train [0-9a-f]{12}: stopped in epoch \\d+ of 10000 \\(step \\d+ of 5\\); "
        + java.util.regex.Pattern.quote(out.resolve("checkpoint.bin").toString()) + " holds epoch \\d+: rerun the "
        + "same command to resume from there");
    int held = Integer.parseInt(line.replaceAll(".* holds epoch (\\d+):.*", "$1"));
    int in = Integer.parseInt(line.replaceAll(".*stopped in epoch (\\d+) .*", "$1"));
    assertThat(held).isPositive().isBetween(in - 1, in);
    // the metrics it wrote reach the checkpoint's epoch
    assertThat(Files.readAllLines(out.resolve("metrics.csv"))).anyMatch(l -> l.matches("[0-9a-f]{12}," + held
        + ",train,loss,.*"));
  }
}
