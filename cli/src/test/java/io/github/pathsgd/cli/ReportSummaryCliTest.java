package io.github.pathsgd.cli;

import static io.github.pathsgd.cli.CliTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.cli.CliTest.Result;
import io.github.pathsgd.report.Report;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pathsgd report --summary ROOT [--readme FILE]}: CLAIMS.md, the README's block, and its one-line errors. */
class ReportSummaryCliTest {
  @Test
  void summaryWritesClaimsAndTheReadmeBlock(@TempDir Path tmp) throws Exception {
    Path root = Files.createDirectories(tmp.resolve("results/medium/size/runs"));
    root = root.getParent().getParent();
    Path readme = tmp.resolve("README.md");
    Files.writeString(readme, "# x\n\n" + Report.BEGIN + "\nstale\n" + Report.END + "\n\nafter\n");
    Result r = run("report", "--summary", root.toString(), "--readme", readme.toString());
    assertThat(r.code()).as(r.err()).isZero();
    String text = Files.readString(readme);
    assertThat(text).startsWith("# x\n\n" + Report.BEGIN + "\n**E1 `size` (Figure 1)**: not finished yet (its "
        + "finished runs are committed in `results/medium/size/runs/`").endsWith(Report.END + "\n\nafter\n")
        .doesNotContain("stale");
    assertThat(Files.readString(root.resolve("CLAIMS.md"))).contains("`size/runs/`");
    // a second run changes nothing
    assertThat(run("report", "--summary", root.toString(), "--readme", readme.toString()).out())
        .contains("is up to date");
  }

  @Test
  void badArgumentsGiveOneLineErrorsAndTouchNothing(@TempDir Path tmp) throws Exception {
    Result a = run("report", "--summary", tmp.resolve("nope").toString());
    assertThat(a.code()).isEqualTo(1);
    assertThat(a.err().strip()).isEqualTo("pathsgd report: error: --summary " + tmp.resolve("nope")
        + ": not a folder (expected a reproduction folder such as results/medium)");
    Path readme = tmp.resolve("README.md");
    Files.writeString(readme, "no markers here\n");
    Result b = run("report", "--summary", tmp.toString(), "--readme", readme.toString());
    assertThat(b.code()).isEqualTo(1);
    assertThat(b.err()).contains(readme + ": expected exactly one line '" + Report.BEGIN + "'");
    assertThat(Files.readString(readme)).isEqualTo("no markers here\n");
    Result c = run("report", "--in", tmp.toString(), "--readme", readme.toString());
    assertThat(c.code()).isEqualTo(1);
    assertThat(c.err().strip()).isEqualTo("pathsgd report: error: --readme goes with --summary, not with --in");
    Result d = run("report", "--in", tmp.toString(), "--summary", tmp.toString());
    assertThat(d.code()).isNotZero();
    assertThat(d.err()).contains("mutually exclusive");
  }
}
