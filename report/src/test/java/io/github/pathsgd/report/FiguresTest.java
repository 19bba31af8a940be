package io.github.pathsgd.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.report.ResultSet.Run;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The figures as a reader needs them: seed spread, log axes with enough labelled ticks, zero errors on a labelled
 * floor, diverged runs named in the legend, one grid for the data-set columns, plain tick numbers.
 */
class FiguresTest {
  /** A run held in memory: config, status, final summary and per-epoch curves. */
  static Run run(String ds, String opt, String init, double dropout, int seed, String status, int hidden,
      double trainErr, double testErr, Map<String, double[]> curves) {
    ObjectNode line = Configs.json().createObjectNode();
    line.put("run_id", ds + opt + init + dropout + seed + "-" + hidden).put("phase", "final").put("status", status);
    line.putObject("config").put("dataset", ds).put("optimizer", opt).put("init", init).put("dropout", dropout)
        .put("lr", 0.09333333333333334).put("seed", seed).putArray("hidden").add(hidden);
    line.putObject("summary").putObject("final").put("train_error", trainErr).put("test_error", testErr);
    Map<String, TreeMap<Integer, Double>> m = new HashMap<>();
    curves.forEach((k, v) -> {
      TreeMap<Integer, Double> c = new TreeMap<>();
      for (int e = 0; e < v.length; e++) {
        c.put(e, v[e]);
      }
      m.put(k, c);
    });
    return new Run(line, m);
  }

  static ResultSet set(Path dir, String figure, List<Run> runs, int seeds) {
    ObjectNode sweep = Configs.json().createObjectNode();
    sweep.put("experiment", figure).put("figure", figure).put("scale", "medium").put("seeds", seeds)
        .put("pathsgd_version", "9.9");
    return ResultSet.of(dir, sweep, runs);
  }

  /** The y tick labels XChart draws when it paints the panel (through the panel's own formatting function). */
  static List<String> yTicks(XYChart c) {
    Function<Double, String> f = c.getStyler().getyAxisTickLabelsFormattingFunction();
    LinkedHashSet<String> seen = new LinkedHashSet<>();
    c.getStyler().setyAxisTickLabelsFormattingFunction(v -> {
      String s = f.apply(v);
      if (!s.isBlank()) {
        seen.add(s);
      }
      return s;
    });
    BufferedImage img = new BufferedImage(Figures.PANEL_WIDTH, Figures.PANEL_HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    c.paint(g, Figures.PANEL_WIDTH, Figures.PANEL_HEIGHT);
    g.dispose();
    c.getStyler().setyAxisTickLabelsFormattingFunction(f);
    return new ArrayList<>(seen);
  }

  static Map<String, double[]> curves(double scale) {
    return Map.of("train/loss", new double[] {2.3 * scale, 0.9 * scale, 0.5 * scale, 0.3 * scale},
        "train/error", new double[] {0.8, 0.1 * scale, 0.02 * scale, 0.0},
        "test/error", new double[] {0.85, 0.04 * scale, 0.03 * scale, 0.025 * scale});
  }

  @Test
  void compareIsOneGridWithSeedSpreadLogErrorAxesAndDivergedSeedsCounted(@TempDir Path tmp) throws Exception {
    List<Run> runs = new ArrayList<>();
    for (String ds : List.of("mnist", "cifar10")) {
      for (double dropout : new double[] {0.0, 0.5}) {
        for (int seed = 1; seed <= 3; seed++) {
          runs.add(run(ds, "path-sgd", "balanced", dropout, seed, "completed", 1000, 0, 0, curves(1 + 0.1 * seed)));
          Map<String, double[]> sgd = new HashMap<>(curves(1.2 + 0.1 * seed));
          boolean diverges = seed == 1;
          if (diverges) {
            sgd.put("train/loss", new double[] {2.3, 4e8, Double.NaN, Double.NaN});
          }
          runs.add(run(ds, "sgd", "unbalanced", dropout, seed, diverges ? "diverged" : "completed", 1000, 0, 0,
              sgd));
        }
      }
    }
    ResultSet rs = set(tmp, "compare", runs, 3);
    List<Figures.Figure> figs = Figures.draw(rs);
    // one grid: 4 rows (data set x dropout) of 3 panels, at 2x; an SVG per panel under the old names
    assertThat(figs).singleElement().satisfies(f -> {
      assertThat(f.png()).isEqualTo(tmp.resolve("figures/compare.png"));
      assertThat(f.width()).isEqualTo(3 * Figures.PANEL_WIDTH);
      assertThat(f.height()).isGreaterThan(4 * Figures.PANEL_HEIGHT).isLessThan(4 * Figures.PANEL_HEIGHT + 60);
      BufferedImage img = ImageIO.read(f.png().toFile());
      assertThat(img.getWidth()).isEqualTo(2 * f.width());
      assertThat(img.getHeight()).isEqualTo(2 * f.height());
      assertThat(img.getRGB(5, 5) & 0xffffff).as("white background").isEqualTo(0xffffff);
      assertThat(f.svgs()).hasSize(12).contains(tmp.resolve("figures/compare-mnist-dropout0.0-1.svg"),
          tmp.resolve("figures/compare-cifar10-dropout0.5-3.svg"));
      assertThat(f.caption()).contains("E3 mnist, dropout 0").contains("E4 cifar10, dropout 0.5");
    });
    List<XYChart> panels = Figures.trainingPanels("", "mnist", rs.filter(r -> r.cfg("dataset").equals("mnist")
        && r.cfg("dropout").equals("0.0")).all(), r -> r.cfg("optimizer") + " " + r.cfg("init") + lr(r));
    // the seed spread: min and max lines next to the mean (test error at epoch 3: 0.025 x 1.1, 1.2, 1.3)
    Map<String, XYSeries> test = panels.get(2).getSeriesMap();
    assertThat(test.get("path-sgd balanced (lr 0.0933)").getYData()[3]).isCloseTo(Math.log10(0.025 * 1.2), within());
    // the mean is the mean of the errors (not of their logarithms), drawn on the log axis
    assertThat(test.get("path-sgd balanced (lr 0.0933) (min)").getYData()[3]).isCloseTo(Math.log10(0.025 * 1.1),
        within());
    assertThat(test.get("path-sgd balanced (lr 0.0933) (max)").getYData()[3]).isCloseTo(Math.log10(0.025 * 1.3),
        within());
    assertThat(test.get("path-sgd balanced (lr 0.0933) (max)").isShowInLegend()).isFalse();
    // a diverged seed: out of the mean, named in the legend, its last finite value crossed
    Map<String, XYSeries> loss = panels.get(0).getSeriesMap();
    XYSeries sgd = loss.get("sgd unbalanced (lr 0.0933), 1 of 3 seeds diverged (x)");
    assertThat(sgd.isShowInLegend()).isTrue();
    assertThat(sgd.getYData()[1]).isCloseTo(Math.log10(0.9 * (1.4 + 1.5) / 2), within());
    assertThat(loss.get("sgd unbalanced (lr 0.0933) diverged 1 (x)").getYData()).containsExactly(Math.log10(4e8));
    assertThat(loss.get("sgd unbalanced (lr 0.0933) diverged 1 (x)").getMarker()).isEqualTo(SeriesMarkers.CROSS);
    // the error panels: a log axis fitted to the data (no 0..0.9 linear axis), with many labelled ticks; the
    // training error's 0 at the epoch-3 floor, labelled "0"
    List<String> testTicks = yTicks(panels.get(2));
    assertThat(testTicks.size()).as("test error ticks %s", testTicks).isGreaterThanOrEqualTo(4);
    assertThat(testTicks).contains("0.1").doesNotContain("0");
    List<String> trainTicks = yTicks(panels.get(1));
    assertThat(trainTicks).contains("0").hasSizeGreaterThanOrEqualTo(4);
    assertThat(panels.get(1).getSeriesMap().get("path-sgd balanced (lr 0.0933)").getYData()[3]).isEqualTo(-2.0);
  }

  @Test
  void logAxesOverLessThanOneDecadeCarryAtLeastFourLabels(@TempDir Path tmp) {
    // the quick E2 range: 2.3 down to 0.2 (the old native log axis labelled only "1")
    List<Run> runs = new ArrayList<>();
    for (int seed = 1; seed <= 3; seed++) {
      runs.add(run("mnist-sample", "path-sgd", "balanced", 0, seed, "completed", 1000, 0, 0,
          Map.of("train/loss", new double[] {2.3, 0.6, 0.35, 0.25, 0.22 + 0.001 * seed})));
      runs.add(run("mnist-sample", "sgd", "unbalanced", 0, seed, seed == 1 ? "completed" : "diverged", 1000, 0, 0,
          Map.of("train/loss", seed == 1 ? new double[] {2.3, 2.302, 2.302, 2.302, 2.302}
              : new double[] {2.3, Double.NaN})));
    }
    XYChart c = Figures.rescalingPanel("mnist-sample", runs);
    List<String> ticks = yTicks(c);
    assertThat(ticks.size()).as("ticks %s", ticks).isGreaterThanOrEqualTo(4);
    assertThat(ticks).allSatisfy(t -> assertThat(t).matches("\\d+(\\.\\d+)?").doesNotStartWith("."));
    assertThat(c.getSeriesMap()).containsKey("sgd unbalanced, 2 of 3 seeds diverged (x)");
    // a diverged run with one finite point is still marked
    assertThat(c.getSeriesMap().get("sgd unbalanced diverged 2 (x)").getYData())
        .containsExactly(Math.log10(2.3));
  }

  @Test
  void sizeDrawsZeroTrainingErrorOnALabelledFloorAndMarksTheFirstHWithZeroOnEverySeed(@TempDir Path tmp)
      throws Exception {
    List<Run> runs = new ArrayList<>();
    int[] hs = {16, 64, 256, 1024};
    double[] train = {0.02, 0.0005, 0.0, 0.0};
    for (int i = 0; i < hs.length; i++) {
      for (int seed = 1; seed <= 2; seed++) {
        // at H = 256 one seed keeps one training image wrong: every seed reaches 0 first at H = 1024
        double t = i == 2 && seed == 2 ? 0.0005 : train[i];
        runs.add(run("mnist", "sgd", "balanced", 0, seed, "completed", hs[i], t, 0.1 - 0.01 * i, Map.of()));
      }
    }
    List<String> zeros = new ArrayList<>();
    XYChart c = Figures.sizePanel("mnist", runs, zeros);
    assertThat(zeros).containsExactly("mnist: H = 1024");
    XYSeries mark = c.getSeriesMap().get("first H where every seed has training error 0: 1024");
    assertThat(mark.getMarker()).isEqualTo(SeriesMarkers.DIAMOND);
    assertThat(mark.getXData()).containsExactly(10.0);
    assertThat(mark.getYData()).containsExactly(-4.0); // the floor: the power of ten below 0.0005
    XYSeries tr = c.getSeriesMap().get("training error (final)");
    // mean over seeds of the errors: at H = 256 (0 + 0.0005) / 2
    assertThat(tr.getYData()).containsExactly(Math.log10(0.02), Math.log10(0.0005), Math.log10(0.00025), -4.0);
    List<String> ticks = yTicks(c);
    assertThat(ticks).contains("0", "0.001", "0.01").hasSizeGreaterThanOrEqualTo(4);
    // the figure file: one PNG with both data sets' panels side by side, one SVG per panel
    List<Run> two = new ArrayList<>(runs);
    for (Run r : runs) {
      ObjectNode line = r.line().deepCopy();
      ((ObjectNode) line.path("config")).put("dataset", "cifar10");
      line.put("run_id", "c" + r.id());
      two.add(new Run(line, r.curves()));
    }
    two.replaceAll(r -> new Run(((ObjectNode) r.line().deepCopy()).put("phase", "main"), r.curves()));
    List<Figures.Figure> figs = Figures.size(set(tmp, "size", two, 2).filter(r -> true), Files.createDirectories(
        tmp.resolve("figures")));
    assertThat(figs).singleElement().satisfies(f -> {
      assertThat(f.svgs()).containsExactly(tmp.resolve("figures/size-1.svg"), tmp.resolve("figures/size-2.svg"));
      assertThat(f.width()).isEqualTo(2 * Figures.PANEL_WIDTH);
      assertThat(f.caption()).contains("mnist: H = 1024, cifar10: H = 1024");
    });
  }

  @Test
  void tickAndTableNumbersArePlainWithALeadingZero() {
    assertThat(Figures.num(0.08)).isEqualTo("0.08");
    assertThat(Figures.num(0.1)).isEqualTo("0.1");
    assertThat(Figures.num(8192)).isEqualTo("8192");
    assertThat(Figures.num(-0.25)).isEqualTo("-0.25");
    assertThat(Report.num(0.09333333333333334)).isEqualTo("0.09333");
    assertThat(Report.num(1.0)).isEqualTo("1");
    assertThat(Report.num(3.0e-5)).isEqualTo("3e-05");
    assertThat(Report.num(Double.NaN)).isEqualTo("–");
  }

  static org.assertj.core.data.Offset<Double> within() {
    return org.assertj.core.data.Offset.offset(1e-9);
  }

  /** " (lr 0.01)" for a run whose config has a step size, "" otherwise: this test's own series label. */
  static String lr(Run r) {
    return r.config().path("lr").isNumber() ? " (lr " + Figures.num(r.config().path("lr").asDouble()) + ")" : "";
  }
}
