package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.cli.CliTest.Result;
import io.github.pathsgd.experiments.sweep.SweepSpec;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line's output rules for links planted inside --out (train, experiments run, experiments merge), an
 * empty path, the error prefix (the command as typed), and a sweep whose runs fail their config check.
 */
class OutputLinksCliTest {
  static final String NL = System.lineSeparator();

  static List<String> names(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  static String refused(Path link, Path to, Path out) {
    return "cannot write " + link + ": it is a symbolic link to " + to + ", outside the output folder " + out
        + "; pathsgd writes its own files only inside the output folder (remove the link)";
  }

  @Test
  void trainRefusesASummaryLinkedOutOfItsFolderAndLeavesTheSiblingFile(@TempDir Path tmp) throws Exception {
    Path out = Files.createDirectories(tmp.resolve("out"));
    Path f = Files.writeString(Files.createDirectories(tmp.resolve("elsewhere")).resolve("f"), "precious\n");
    Path link = Files.createSymbolicLink(out.resolve("summary.json"), Path.of("../elsewhere/f"));
    Result r = CliTest.run(OutputPathsTest.tiny(out));
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("pathsgd train: error: --out: " + refused(link, f.toRealPath(), out) + NL);
    assertThat(f).hasContent("precious\n");
    assertThat(names(tmp.resolve("elsewhere"))).containsExactly("f");
    assertThat(names(out)).containsExactly("summary.json"); // nothing written: the check comes before the run
  }

  @Test
  void experimentsRunAndMergeRefuseARunFolderLinkedOutOfTheSweepFolder(@TempDir Path tmp) throws Exception {
    Path spec = Files.writeString(tmp.resolve("tiny.yaml"), ExperimentsMergeCommandTest.TINY);
    List<SweepRun> plan = SweepSpec.parse(ExperimentsMergeCommandTest.TINY, "tiny").expand("smoke", 1);
    Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
    Path out = Files.createDirectories(tmp.resolve("out").resolve("runs")).getParent();
    Path link = Files.createSymbolicLink(out.resolve("runs").resolve(plan.get(2).runId()), Path.of("../../elsewhere"));
    Result r = CliTest.run("experiments", "run", spec.toString(), "--scale", "smoke", "--out", out.toString(),
        "--quiet");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("pathsgd experiments run: error: " + refused(link, elsewhere.toRealPath(), out)
        + NL);
    assertThat(names(elsewhere)).isEmpty();
    assertThat(names(out.resolve("runs"))).containsExactly(plan.get(2).runId());

    // merge: a finished shard folder into a folder with the same planted link
    Path shard = tmp.resolve("shard");
    ExperimentsMergeCommandTest.sweep(ExperimentsMergeCommandTest.TINY, shard, 0, 1, 1);
    Path merged = Files.createDirectories(tmp.resolve("merged").resolve("runs")).getParent();
    Path link2 = Files.createSymbolicLink(merged.resolve("runs").resolve(plan.get(2).runId()),
        Path.of("../../elsewhere"));
    Result m = CliTest.run("experiments", "merge", "--spec", spec.toString(), merged.toString(), shard.toString());
    assertThat(m.code()).isEqualTo(1);
    assertThat(m.err()).isEqualTo("pathsgd experiments merge: error: " + refused(link2, elsewhere.toRealPath(), merged)
        + NL);
    assertThat(names(elsewhere)).isEmpty();
    assertThat(names(merged.resolve("runs"))).containsExactly(plan.get(2).runId());
  }

  @Test
  void anEmptyOutIsRefusedNotTakenForTheCurrentFolder(@TempDir Path tmp) throws Exception {
    Result t = CliTest.run("train", "--hidden", "8", "--epochs", "1", "--quiet", "--out", "");
    assertThat(t.code()).isEqualTo(2);
    assertThat(t.err()).startsWith("pathsgd train: error: Invalid value for option '--out': expected a path, got an "
        + "empty string" + NL);
    Result e = CliTest.run("experiments", "run", "size", "--scale", "smoke", "--out", "");
    assertThat(e.code()).isEqualTo(2);
    assertThat(e.err()).isEqualTo("pathsgd experiments run: error: Invalid value for option '--out': expected a "
        + "path, got an empty string" + NL + "Try 'pathsgd experiments run --help'." + NL);
    Result m = CliTest.run("experiments", "merge", "", tmp.toString());
    assertThat(m.code()).isEqualTo(2);
    assertThat(m.err()).startsWith("pathsgd experiments merge: error: Invalid value for positional parameter at "
        + "index 0 (OUT): expected a path, got an empty string" + NL);
  }

  @Test
  void errorsNameTheCommandAsTyped(@TempDir Path tmp) throws Exception {
    Result info = CliTest.run("data", "info", tmp.resolve("nothing.npz").toString());
    assertThat(info.code()).isEqualTo(1);
    assertThat(info.err()).startsWith("pathsgd data info: error: " + tmp.resolve("nothing.npz") + ": ");
    Result run = CliTest.run("experiments", "run", tmp.resolve("none.yaml").toString(), "--scale", "smoke", "--out",
        tmp.resolve("o").toString());
    assertThat(run.code()).isEqualTo(1);
    assertThat(run.err()).startsWith("pathsgd experiments run: error: ");
    Result merge = CliTest.run("experiments", "merge", tmp.resolve("m").toString(), tmp.resolve("none").toString());
    assertThat(merge.code()).isEqualTo(1);
    assertThat(merge.err()).isEqualTo("pathsgd experiments merge: error: " + tmp.resolve("none") + ": no sweep.json; "
        + "not a folder of `pathsgd experiments run`" + NL);
    Result usage = CliTest.run("data", "info");
    assertThat(usage.code()).isEqualTo(2);
    assertThat(usage.err()).isEqualTo("pathsgd data info: error: Missing required parameter: 'NAME'" + NL
        + "Try 'pathsgd data info --help'." + NL);
    Result dl = CliTest.run("data", "download", "nosuch", "--data-dir", tmp.toString());
    assertThat(dl.err()).startsWith("pathsgd data download: error: ");
  }

  @Test
  void aSweepWhoseRunsFailTheirConfigCheckExitsOneNamingThem(@TempDir Path tmp) throws Exception {
    String yaml = ExperimentsMergeCommandTest.TINY.replace("lr: [0.05, 0.1]", "lr: [0.05]\n  validation_size: [50, "
        + "1000000]");
    Path spec = Files.writeString(tmp.resolve("unfit.yaml"), yaml);
    List<SweepRun> plan = SweepSpec.parse(yaml, "tiny").expand("smoke", 1);
    assertThat(plan).hasSize(4);
    Path out = tmp.resolve("out");
    Result r = CliTest.run("experiments", "run", spec.toString(), "--scale", "smoke", "--out", out.toString(),
        "--quiet");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.out()).contains("4 runs planned, 2 trained (0 diverged), 0 already done, 0 without data");
    List<String> bad = plan.stream().filter(p -> p.config().validationSize() == 1000000).map(SweepRun::runId)
        .toList();
    assertThat(bad).hasSize(2);
    assertThat(r.err()).startsWith("pathsgd experiments run: error: 2 run(s) refused, their config does not check "
        + "against their data (nothing was written for them; fix the sweep, then rerun to train them): " + bad.get(0)
        + " (validation size 1000000 (validation_size) ").contains("; " + bad.get(1) + " (validation size 1000000")
        .endsWith(NL).hasLineCount(1);
    for (String id : bad) {
      assertThat(out.resolve("runs").resolve(id).resolve("missing.json")).doesNotExist();
    }
  }
}
