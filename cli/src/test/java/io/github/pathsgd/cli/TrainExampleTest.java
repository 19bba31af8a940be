package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's example output of {@code pathsgd train} (issue 29 item 3): generated from the committed run folder
 * results/quick/train-default, with the lines {@code train} itself prints, and a test fails when it is stale.
 */
class TrainExampleTest {
  /** The README's block is what the committed run folder gives (rerun the command in the message when it changes). */
  @Test
  void readmeTrainExampleMatchesTheCommittedRun() throws Exception {
    Path repo = Path.of("..").toAbsolutePath().normalize();
    Path readme = repo.resolve("README.md");
    assumeTrue(Files.exists(readme), "README.md not found from " + Path.of("").toAbsolutePath() + ": skipped");
    String text = Files.readString(readme);
    assertThat(text).contains(TrainExample.BEGIN_HEAD + "results/quick/train-default" + TrainExample.BEGIN_TAIL);
    assertThat(text).as("README.md's example of pathsgd train is stale: run ./pathsgd report --summary results/medium "
        + "--readme README.md").isEqualTo(TrainExample.splice(text, readme));
    // the figures come from the files: the committed run's last epoch and kernel are in the block
    String run = Files.readString(repo.resolve("results/quick/train-default/config.json"));
    String kernel = run.replaceAll("(?s).*\"blas_core\" : \"([^\"]+)\".*", "$1");
    assertThat(text).contains("OpenBLAS's " + kernel + " kernel: `blas_core` in its `config.json`")
        .contains("epoch  30  train loss ");
  }

  /** A train run's own output and the block generated from its folder agree line for line. */
  @Test
  void blockHasTheLinesTrainPrints(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("run");
    CliTest.Result r = CliTest.run("train", "--hidden", "16", "--epochs", "4", "--per-class-train", "50",
        "--validation-size", "100", "--threads", "1", "--out", dir.toString());
    assertThat(r.code()).as(r.err()).isZero();
    List<String> printed = r.out().lines().toList();
    String block = TrainExample.block(dir, "run");
    List<String> lines = block.lines().toList();
    String runId = lines.stream().filter(l -> l.startsWith("pathsgd train ")).findFirst().orElseThrow()
        .replaceAll("pathsgd train ([0-9a-f]{12}):.*", "$1");
    // epochs 0, 1, 2, "...", 4; the summary line: exactly as printed
    assertThat(lines.stream().filter(l -> l.startsWith("epoch ")).toList()).hasSize(4)
        .allSatisfy(l -> assertThat(printed).contains(l));
    assertThat(lines).contains("...");
    assertThat(printed).contains(lines.stream().filter(l -> l.startsWith("{\"run_id\"")).findFirst().orElseThrow());
    // the banner less the load time the folder does not record; the default folder in place of --out's
    String banner = printed.stream().filter(l -> l.startsWith("pathsgd train ")).findFirst().orElseThrow();
    assertThat(lines).contains(banner.replaceAll("; loaded in [0-9.]+s\\)$", ")"));
    Path shown = Path.of("runs", "train-" + runId);
    for (String l : printed) {
      if (l.startsWith("optimizer ") || l.startsWith("wrote ")) {
        assertThat(lines).contains(l.replace(dir.toString(), shown.toString()));
      }
    }
  }

  /** When the run folder changes, the regenerated block follows it, so a README left alone is stale. */
  @Test
  void blockFollowsTheRunFolder(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("example");
    CliTest.Result r = CliTest.run("train", "--hidden", "8", "--epochs", "1", "--per-class-train", "20",
        "--validation-size", "50", "--threads", "1", "--quiet", "--out", dir.toString());
    assertThat(r.code()).as(r.err()).isZero();
    Path readme = tmp.resolve("README.md");
    String text = "intro\n" + TrainExample.BEGIN_HEAD + "example" + TrainExample.BEGIN_TAIL + "\nold\n"
        + TrainExample.END + "\noutro\n";
    Files.writeString(readme, text);
    String fresh = TrainExample.splice(text, readme);
    assertThat(fresh).startsWith("intro\n" + TrainExample.BEGIN_HEAD).endsWith("```\n" + TrainExample.END
        + "\noutro\n").doesNotContain("\nold\n").contains("generated from the run folder `example/`");
    assertThat(TrainExample.splice(fresh, readme)).isEqualTo(fresh);
    // the last epoch's test error becomes 12.5%: the block says so, and the old one no longer matches
    Path metrics = dir.resolve("metrics.csv");
    List<String> rows = Files.readAllLines(metrics).stream().map(l -> l.matches("[0-9a-f]{12},1,test,error,.*")
        ? l.replaceAll(",[^,]*$", ",0.125") : l).toList();
    Files.write(metrics, rows);
    String next = TrainExample.splice(fresh, readme);
    assertThat(next).isNotEqualTo(fresh).containsPattern("epoch   1 .* test err  12\\.50%");
  }

  @Test
  void aMarkerWithoutItsEndOrRunFolderIsRefusedNamingTheFile(@TempDir Path tmp) throws Exception {
    Path readme = tmp.resolve("README.md");
    assertThat(TrainExample.splice("no markers\n", readme)).isEqualTo("no markers\n");
    String noEnd = TrainExample.BEGIN_HEAD + "x" + TrainExample.BEGIN_TAIL + "\n";
    assertThatThrownBy(() -> TrainExample.splice(noEnd, readme)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage(readme + ": expected a line '" + TrainExample.END + "' after the line '" + noEnd.strip() + "'");
    String noRun = noEnd + TrainExample.END + "\n";
    assertThatThrownBy(() -> TrainExample.splice(noRun, readme)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage(tmp.resolve("x/config.json") + ": not found (expected the folder of a finished pathsgd train run, "
            + "named by the README's train-example marker)");
  }
}
