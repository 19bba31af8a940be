package io.github.pathsgd.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The claims summary of a reproduction folder (CLAIMS.md and the README's generated block): written from result files,
 * finished experiments only, and the README's block equal to what the committed results/medium gives.
 */
class SummaryTest {
  @Test
  void summaryTakesFinishedExperimentsFromTheFiles(@TempDir Path tmp) throws Exception {
    Path root = tmp.resolve("medium");
    List<VerdictTest.R> runs = VerdictTest.compare(new double[] {0.30, 0.31}, new double[] {0.20, 0.21}, 1e-4, true);
    VerdictTest.write(root.resolve("compare"), "compare", runs);
    Files.createDirectories(root.resolve("size/runs/abc/"));
    Files.writeString(root.resolve("size/runs/abc/summary.json"), "{}");
    Files.createDirectories(root.resolve("size/runs/def/")); // unfinished: no summary.json
    // compare has no COMPLETE yet: only a count
    String s = Report.summary(root, tmp);
    assertThat(s).contains("**E1 `size` (Figure 1)**: not finished yet (its finished runs are committed in "
        + "`medium/size/runs/`").contains("**E3/E4 `compare` (Figures 3 and 4)**: not finished yet")
        .doesNotContain("| claim");
    Files.writeString(root.resolve("compare/COMPLETE"), "2026-12-06T00:00:00Z\n");
    s = Report.summary(root, tmp);
    assertThat(s).contains("**E3/E4 `compare` (Figures 3 and 4)**, medium scale, 10 runs (`medium/compare/report.md`)")
        .contains("| claim | mnist |")
        .contains("| Path-SGD's final training loss below SGD's, unbalanced init, no dropout | holds (clear): final training loss"
            + " Path-SGD 0.1050 vs SGD 0.3050");
    // the data changed, the summary follows: AdaGrad's loss below Path-SGD's
    VerdictTest.write(root.resolve("compare"), "compare",
        VerdictTest.compare(new double[] {0.30, 0.31}, new double[] {0.05, 0.06}, 1e-4, true));
    assertThat(Report.summary(root, tmp))
        .contains("| Path-SGD's final training loss below AdaGrad's, unbalanced init, no dropout | does not hold (thin):");
  }

  @Test
  void spliceReplacesOnlyTheBlockAndRefusesWithoutMarkers() {
    String text = "intro\n" + Report.BEGIN + "\nold\n" + Report.END + "\noutro\n";
    assertThat(Report.splice(text, "new\n", "README.md"))
        .isEqualTo("intro\n" + Report.BEGIN + "\nnew\n" + Report.END + "\noutro\n");
    assertThatThrownBy(() -> Report.splice("no markers\n", "x", "README.md"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("README.md: expected exactly one line");
    assertThatThrownBy(() -> Report.splice(Report.END + "\n" + Report.BEGIN + "\n", "x", "R.md"))
        .hasMessageContaining("R.md");
  }

  /** The README's generated block is what the committed result files give (rerun the command when they change). */
  @Test
  void readmeBlockMatchesResultsMedium() throws Exception {
    Path repo = Path.of("..").toAbsolutePath().normalize();
    Path readme = repo.resolve("README.md");
    Path medium = repo.resolve("results/medium");
    assumeTrue(Files.isDirectory(medium) && Files.exists(readme), "results/medium or README.md not found from "
        + Path.of("").toAbsolutePath() + ": skipped");
    String text = Files.readString(readme);
    String expected = Report.splice(text, Report.summary(medium, repo), "README.md");
    assertThat(text).as("README.md's claims block is stale: run ./pathsgd report --summary results/medium --readme "
        + "README.md").isEqualTo(expected);
  }

  /**
   * results/quick/CLAIMS.md, which the README points to for the quick-scale results, is what the committed quick result
   * files give (issue 29: the README's quick numbers were stale).
   */
  @Test
  void quickClaimsMatchResultsQuick() throws Exception {
    Path quick = Path.of("..").toAbsolutePath().normalize().resolve("results/quick");
    Path claims = quick.resolve("CLAIMS.md");
    assumeTrue(Files.exists(claims), claims + " not found from " + Path.of("").toAbsolutePath() + ": skipped");
    assertThat(Files.readString(claims)).as("results/quick/CLAIMS.md is stale: run ./pathsgd report --summary "
        + "results/quick").isEqualTo("# Claims of the chapter, measured\n\n" + Report.summary(quick, quick));
  }
}
