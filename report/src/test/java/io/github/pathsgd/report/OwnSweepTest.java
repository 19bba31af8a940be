package io.github.pathsgd.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.experiments.sweep.SweepRunner;
import io.github.pathsgd.experiments.sweep.SweepSpec;
import io.github.pathsgd.report.ResultSet.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.XYChart;

/**
 * A researcher's own sweep files and run folders (issue 29, items 1 and 2): runs that differ in any config key but the
 * seed are different curves and different verdicts, the legend names what differs, a sweep file needs only what it
 * uses, and a figure or verdict that cannot apply says why.
 */
class OwnSweepTest {
  static final String BASE = "base: {dataset: mnist-sample, hidden: [8], per_class_train: 4, validation_size: 50, "
      + "epochs: 2, threads: 1, batch_size: 10, seed: 3}\n";

  static ResultSet sweep(Path tmp, String yaml, int seeds) throws Exception {
    Path file = Files.writeString(tmp.resolve("mine.yaml"), yaml);
    SweepSpec spec = SweepSpec.load(file.toString(), List.of());
    Path out = tmp.resolve("out");
    new SweepRunner(spec, "smoke", seeds, SweepRunner.Options.of(out)).run();
    return ResultSet.read(out);
  }

  @Test
  void aSweepFileWithOnlyANameABaseAndAGridRunsAndReportsEveryRunApart(@TempDir Path tmp) throws Exception {
    // no figure, no scales, no description: the runs figure, the same runs at every scale
    ResultSet rs = sweep(tmp, "name: mine\n" + BASE + "grid: {optimizer: [sgd, path-sgd], lr: [0.05, 0.1]}\n", 1);
    assertThat(rs.figure()).isEqualTo("runs");
    assertThat(rs.finished()).hasSize(4);
    List<String> labels = rs.finished().stream().map(ResultSet.series(rs.finished())).toList();
    assertThat(labels).containsExactly("sgd balanced (lr 0.05)", "sgd balanced (lr 0.1)",
        "path-sgd balanced (lr 0.05)", "path-sgd balanced (lr 0.1)");
    Report.Written w = Report.writeReport(rs.dir());
    assertThat(w.problems()).isEmpty();
    String md = Files.readString(rs.dir().resolve("report.md"));
    assertThat(md).doesNotContain("null").contains("No verdict: figure 'runs' states no claim of the chapter")
        .contains("4 runs recorded: 4 finished (0 diverged)").contains("![");
    assertThat(Files.exists(rs.dir().resolve("figures/runs-mnist-sample.png"))).isTrue();
  }

  @Test
  void aRescalingSweepWithAnLrGridGetsOneVerdictAndOneCurvePerStepSize(@TempDir Path tmp) throws Exception {
    ResultSet rs = sweep(tmp, "name: mine\nfigure: rescaling\n" + BASE
        + "grid: {optimizer: [sgd, path-sgd], init: [balanced, unbalanced], lr: [0.05, 0.1]}\n", 2);
    assertThat(rs.phase("main")).hasSize(16);
    List<String> claims = Claims.verdicts(rs).stream().map(Claims.Verdict::claim).toList();
    assertThat(claims).containsExactly(
        "SGD slower from the unbalanced start (final training loss above the balanced start's), lr 0.05",
        "Path-SGD balanced and unbalanced coincide, lr 0.05",
        "SGD slower from the unbalanced start (final training loss above the balanced start's), lr 0.1",
        "Path-SGD balanced and unbalanced coincide, lr 0.1");
    // each verdict rests on the two seeds of one step size, never on the two step sizes pooled as seeds
    for (Claims.Verdict v : Claims.verdicts(rs)) {
      assertThat(v.numbers()).doesNotContain("1 of 4").doesNotContain("of 4 seeds");
    }
    Map<String, List<Run>> curves = Figures.group(rs.phase("main"), ResultSet.series(rs.phase("main")));
    assertThat(curves).hasSize(8).allSatisfy((label, runs) -> assertThat(runs).hasSize(2)
        .extracting(r -> r.cfg("lr")).containsOnly(label.endsWith("lr 0.05)") ? "0.05" : "0.1"));
    assertThat(curves.keySet()).contains("sgd unbalanced (lr 0.05)", "path-sgd balanced (lr 0.1)");
    assertThat(Report.writeReport(rs.dir()).problems()).isEmpty();
  }

  @Test
  void aCompareSweepWithoutAStepSizeBlockReportsItsRuns(@TempDir Path tmp) throws Exception {
    ResultSet rs = sweep(tmp, "name: mine\nfigure: compare\n" + BASE
        + "grid: {optimizer: [sgd, path-sgd], init: [balanced, unbalanced], lr: [0.05, 0.1]}\n", 1);
    assertThat(rs.finished()).hasSize(8);
    assertThat(rs.phase("final")).hasSize(8); // without a selection the main runs are the final ones
    Report.Written w = Report.writeReport(rs.dir());
    assertThat(w.problems()).isEmpty();
    String md = Files.readString(rs.dir().resolve("report.md"));
    assertThat(md).doesNotContain("null.").doesNotContain("no finished runs to measure")
        .contains("Path-SGD's final training loss below SGD's, balanced init, no dropout, lr 0.05")
        .contains("Path-SGD's final training loss below SGD's, unbalanced init, no dropout, lr 0.1");
    assertThat(Files.exists(rs.dir().resolve("figures"))).isTrue();
    assertThat(Figures.draw(rs)).isNotEmpty();
  }

  @Test
  void aVerdictThatCannotApplySaysWhy(@TempDir Path tmp) throws Exception {
    ResultSet rs = sweep(tmp, "name: mine\nfigure: rescaling\n" + BASE + "grid: {optimizer: [adagrad]}\n", 1);
    Report.Written w = Report.writeReport(rs.dir());
    assertThat(w.problems()).containsExactly("no verdict: figure 'rescaling' compares sgd and path-sgd from init "
        + "balanced and unbalanced; the 1 main runs have optimizer [adagrad] and init [balanced]");
    assertThat(Files.readString(rs.dir().resolve("report.md"))).contains("No verdict: figure 'rescaling' compares");
  }

  static Path run(Path dir, String id, String hidden, double lr, long seed, int epochs) throws Exception {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("config.json"), "{\"run_id\":\"" + id + "\",\"config\":{\"dataset\":\"toy\","
        + "\"optimizer\":\"path-sgd\",\"init\":\"balanced\",\"hidden\":" + hidden + ",\"lr\":" + lr + ",\"dropout\""
        + ":0.0,\"epochs\":" + epochs + ",\"seed\":" + seed + ",\"threads\":" + seed + "}}");
    StringBuilder csv = new StringBuilder("run_id,epoch,split,metric,value\n");
    for (int e = 0; e <= epochs; e++) {
      double loss = 2.3 / (1 + e * lr * 10) + seed * 0.01;
      csv.append(id).append(',').append(e).append(",train,loss,").append(loss).append('\n');
      csv.append(id).append(',').append(e).append(",train,error,").append(loss / 10).append('\n');
      csv.append(id).append(',').append(e).append(",test,error,").append(loss / 8).append('\n');
    }
    Files.writeString(dir.resolve("metrics.csv"), csv);
    return dir;
  }

  @Test
  void plotRunsKeepsTwoArchitecturesAndAnLrGridApartAndItsLegendNamesWhatDiffers(@TempDir Path tmp)
      throws Exception {
    // issue 29: a 784-256-256-10 run (4 epochs) and a 784-1000-1000-10 run (6 epochs) were one mean curve
    List<Path> dirs = List.of(run(tmp.resolve("a"), "aaaaaaaaaaaa", "[256,256]", 0.1, 1, 4),
        run(tmp.resolve("b"), "bbbbbbbbbbbb", "[256,256]", 0.1, 2, 4),
        run(tmp.resolve("c"), "cccccccccccc", "[256,256]", 0.01, 1, 4),
        run(tmp.resolve("d"), "dddddddddddd", "[1000,1000]", 0.1, 1, 6),
        run(tmp.resolve("e"), "eeeeeeeeeeee", "[1000,1000]", 0.01, 1, 6));
    ResultSet rs = ResultSet.ofRuns(dirs, tmp.resolve("out"));
    // epochs differ with the architecture here, so they are named too; the seed and threads are not
    assertThat(ResultSet.varying(rs.finished())).containsExactly("epochs", "hidden", "lr");
    List<XYChart> panels = Figures.trainingPanels("", "toy", rs.finished(), ResultSet.series(rs.finished()));
    // the thin min and max lines of a group with several seeds are drawn as series of their own, named after it
    assertThat(panels.get(0).getSeriesMap().keySet().stream().filter(k -> !k.endsWith(" (min)") && !k.endsWith(" (max)"))
        .toList()).containsExactly(
        "path-sgd balanced (epochs 4, hidden [256,256], lr 0.1)",
        "path-sgd balanced (epochs 4, hidden [256,256], lr 0.01)",
        "path-sgd balanced (epochs 6, hidden [1000,1000], lr 0.1)",
        "path-sgd balanced (epochs 6, hidden [1000,1000], lr 0.01)");
    // the two seeds of the first setting are averaged (losses 2.31 and 2.32 at epoch 0; the losses here span less than
    // a factor of 10, so the axis is linear), the others stand alone
    double[] y = panels.get(0).getSeriesMap().get("path-sgd balanced (epochs 4, hidden [256,256], lr 0.1)")
        .getYData();
    assertThat(y).hasSize(5);
    assertThat(y[0]).isCloseTo((2.31 + 2.32) / 2, org.assertj.core.api.Assertions.within(1e-9));
    assertThat(panels.get(0).getSeriesMap().get("path-sgd balanced (epochs 6, hidden [1000,1000], lr 0.1)")
        .getYData()).hasSize(7);
    assertThat(Figures.draw(rs)).hasSize(1);
  }
}
