package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.cli.CliTest.Result;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.model.SafeTensors;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Output paths on the command line: checked before any work, special files refused or written through and never
 * replaced, the end of a run in an order that loses nothing, file modes from the umask, orphaned temporary files
 * removed, the divergence bound, and the automatic validation size on a small data set.
 */
class OutputPathsTest {
  static final String EXPECTED = "an output must be a regular file or a new name (written atomically), or a "
      + "character device such as /dev/null or a terminal (written through)";

  static Result run(String... args) {
    return CliTest.run(args);
  }

  static boolean sh(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  static boolean root() {
    try {
      Process p = new ProcessBuilder("id", "-u").start();
      return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip().equals("0");
    } catch (Exception e) {
      return false;
    }
  }

  static int type(Path p) throws Exception {
    return ((Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS)) & 0170000;
  }

  static List<String> names(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  static String[] tiny(Path out, String... more) {
    List<String> a = new java.util.ArrayList<>(List.of("train", "--hidden", "8", "--epochs", "1", "--quiet",
        "--threads", "1", "--out", out.toString()));
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  @Test
  void aFifoAsModelIsRefusedBeforeAnythingIsLoadedOrWritten(@TempDir Path tmp) throws Exception {
    Path fifo = tmp.resolve("model.safetensors");
    Assumptions.assumeTrue(sh("mkfifo", fifo.toString()), "mkfifo not available: FIFO case skipped");
    Path out = tmp.resolve("run");
    Result r = run(tiny(out, "--save-model", fifo.toString()));
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("pathsgd train: error: --save-model: cannot write " + fifo
        + ": it is a FIFO (named pipe); " + EXPECTED + System.lineSeparator());
    assertThat(Files.exists(out)).isFalse(); // nothing was written: the check came before the run folder
    assertThat(type(fifo)).isEqualTo(0010000);
  }

  @Test
  void badRunFoldersAreRefusedBeforeTraining(@TempDir Path tmp) throws Exception {
    Path file = Files.writeString(tmp.resolve("a-file"), "keep");
    Result a = run(tiny(file));
    assertThat(a.code()).isEqualTo(1);
    assertThat(a.err().strip()).isEqualTo("pathsgd train: error: --out: cannot write into " + file
        + ": it is a regular file, not a folder");
    assertThat(Files.readString(file)).isEqualTo("keep");

    Path out = Files.createDirectories(tmp.resolve("run/summary.json")).getParent();
    Result b = run(tiny(out));
    assertThat(b.code()).isEqualTo(1);
    assertThat(b.err().strip()).isEqualTo("pathsgd train: error: --out: cannot write " + out.resolve("summary.json")
        + ": it is a folder; " + EXPECTED);
    assertThat(names(out)).containsExactly("summary.json");

    Result c = run(tiny(tmp.resolve("run2"), "--save-model", tmp.resolve("run2/metrics.csv").toString()));
    assertThat(c.err().strip()).isEqualTo("pathsgd train: error: --save-model: " + tmp.resolve("run2/metrics.csv")
        + " is the run's own metrics.csv; give another name");
  }

  @Test
  void aModelLinkIsWrittenThroughAndFilesGetTheUmaskMode(@TempDir Path tmp) throws Exception {
    Path ref = Files.createFile(tmp.resolve("reference"));
    Path models = Files.createDirectories(tmp.resolve("models"));
    Path target = Files.writeString(models.resolve("final.safetensors"), "an older model");
    Path link = Files.createSymbolicLink(tmp.resolve("latest.safetensors"), Path.of("models/final.safetensors"));
    Path out = tmp.resolve("run");
    // orphans of a killed earlier run: a temporary file of a process that has ended, and one of another machine
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    Files.createDirectories(out);
    String host = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip().replaceAll("[^A-Za-z0-9.-]", "_");
    Path orphan = Files.writeString(out.resolve(".checkpoint.bin.pathsgd-" + host + "-" + p.pid()
        + "-00000000deadbeef.tmp"), "torn");
    Path foreign = Files.writeString(out.resolve(".checkpoint.bin.pathsgd-elsewhere-" + p.pid()
        + "-00000000deadbeef.tmp"), "another machine's");
    Result r = run(tiny(out, "--save-model", link.toString()));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(SafeTensors.read(target).network().chain().widths()).containsExactly(784, 8, 10);
    assertThat(names(models)).containsExactly("final.safetensors");
    assertThat(Files.exists(orphan)).isFalse();
    assertThat(Files.exists(foreign)).isTrue();
    assertThat(names(out)).containsExactly(foreign.getFileName().toString(), "config.json", "metrics.csv",
        "summary.json");
    for (Path f : List.of(out.resolve("config.json"), out.resolve("metrics.csv"), out.resolve("summary.json"))) {
      assertThat(Files.getPosixFilePermissions(f)).as(f.toString()).isEqualTo(Files.getPosixFilePermissions(ref));
    }
  }

  @Test
  void aModelWriteThatFailsAtTheEndLosesNothing(@TempDir Path tmp) throws Exception {
    Assumptions.assumeTrue(root(), "not root: mknod needs root, the /dev/full case is skipped");
    Path full = tmp.resolve("full");
    Assumptions.assumeTrue(sh("mknod", full.toString(), "c", "1", "7"), "mknod failed: the /dev/full case is skipped");
    Path out = tmp.resolve("run");
    Result r = run(tiny(out, "--save-model", full.toString()));
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().strip()).isEqualTo("pathsgd train: error: --save-model: cannot write " + full
        + ": No space left on device; the checkpoint " + out.resolve("checkpoint.bin") + " is kept: rerun with "
        + "another --save-model to write the model without training again");
    assertThat(type(full)).isEqualTo(0020000); // still the device, not a 26 KB file
    assertThat(names(out)).containsExactly("checkpoint.bin", "config.json", "metrics.csv"); // no summary: not done
    // the rerun with a good path resumes at the end: nothing is trained again, the checkpoint goes last
    Path model = tmp.resolve("model.safetensors");
    Result again = run(tiny(out, "--save-model", model.toString()));
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(names(out)).containsExactly("config.json", "metrics.csv", "summary.json");
    JsonNode s = Configs.json().readTree(out.resolve("summary.json").toFile());
    assertThat(s.get("status").asText()).isEqualTo("completed");
    assertThat(s.get("reason").asText()).isEqualTo("epoch budget of 1 reached");
    assertThat(SafeTensors.read(model).network().chain().widths()).containsExactly(784, 8, 10);
  }

  @Test
  void anExplodingLossEndsDivergedWithExitCode3(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("run");
    Result r = run(tiny(out, "--lr", "1e6"));
    assertThat(r.code()).as(r.err()).isEqualTo(3);
    JsonNode s = Configs.json().readTree(out.resolve("summary.json").toFile());
    assertThat(s.get("status").asText()).isEqualTo("diverged");
    assertThat(s.get("reason").asText()).contains("above the divergence bound");
    Result off = run(tiny(tmp.resolve("off"), "--lr", "1e6", "--divergence-factor", "0"));
    JsonNode o = Configs.json().readTree(tmp.resolve("off/summary.json").toFile());
    assertThat(o.get("reason").asText()).doesNotContain("divergence bound");
    assertThat(off.code()).isIn(0, 3);
    Result bad = run(tiny(tmp.resolve("bad"), "--divergence-factor", "0.5"));
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.err().strip()).isEqualTo("pathsgd train: error: divergence_factor: expected 0 (off) or a finite "
        + "factor >= 1, got 0.5");
  }

  @Test
  void rescaleAndReportCheckTheirOutputsFirst(@TempDir Path tmp) throws Exception {
    Path fifo = tmp.resolve("r.safetensors");
    Assumptions.assumeTrue(sh("mkfifo", fifo.toString()), "mkfifo not available: FIFO case skipped");
    // the model does not even exist: the output is checked before it is read
    Result r = run("rescale", tmp.resolve("missing.safetensors").toString(), "--unbalance", "--out", fifo.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().strip()).isEqualTo("pathsgd rescale: error: --out: cannot write " + fifo
        + ": it is a FIFO (named pipe); " + EXPECTED);
    Path in = Files.createDirectories(tmp.resolve("sweep"));
    Assumptions.assumeTrue(sh("mkfifo", in.resolve("report.md").toString()));
    Result rep = run("report", "--in", in.toString());
    assertThat(rep.code()).isEqualTo(1);
    assertThat(rep.err().strip()).isEqualTo("pathsgd report: error: cannot write " + in.resolve("report.md")
        + ": it is a FIFO (named pipe); " + EXPECTED);
  }

  @Test
  void theDefaultValidationSizeFitsASmallCifarCopy(@TempDir Path tmp) {
    Path d = Path.of("").toAbsolutePath();
    Path data = null;
    for (; d != null && data == null; d = d.getParent()) {
      Path c = d.resolve("shared/data/cifar10-png");
      data = Files.isDirectory(c) ? c : null;
    }
    Assumptions.assumeTrue(data != null, "shared/data/cifar10-png not found: skipped");
    Result r = CliTest.run("train", "--dataset", "cifar10", "--data-dir", data.toString(), "--hidden", "8",
        "--epochs", "1", "--threads", "1", "--out", tmp.resolve("run").toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("(3500 train, 500 validation, 1000 test;");
  }
}
