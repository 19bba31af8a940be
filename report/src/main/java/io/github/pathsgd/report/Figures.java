package io.github.pathsgd.report;

import io.github.pathsgd.report.ResultSet.Run;
import io.github.pathsgd.train.io.AtomicFiles;
import io.github.pathsgd.train.io.OutputTarget;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The chapter's figures from a sweep's result files, with XChart (headless): PNG (all panels of a figure side by side)
 * and SVG (one file per panel). Several seeds: the mean as a line with markers and the min and max as thin lines of
 * the same colour (a min-max band). Every title names the data, scale, seeds and pathsgd version.
 */
public final class Figures {
  private static final Color[] COLORS = {new Color(0xd62728), new Color(0x1f77b4), new Color(0x2ca02c),
      new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f)};

  /** A figure written to disk: its PNG and SVG files and a caption. */
  public record Figure(String name, String caption, Path png, List<Path> svgs) {}

  private Figures() {}

  /** Draws every figure for the sweep in {@code in} into {@code in/figures}. */
  public static List<Figure> draw(ResultSet rs) {
    Path dir = rs.dir().resolve("figures");
    OutputTarget.checkFolder(dir);
    try {
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(dir);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
    }
    return switch (rs.figure()) {
      case "size" -> size(rs, dir);
      case "rescaling" -> rescaling(rs, dir);
      case "compare" -> compare(rs, dir);
      case "runs" -> runs(rs, dir);
      default -> throw new IllegalArgumentException("unknown figure kind '" + rs.figure() + "' in sweep.json");
    };
  }

  static String tag(ResultSet rs, String data) {
    return String.format(Locale.ROOT, "%s | %s, %d seed%s, pathsgd %s", data, rs.scale(), rs.seeds(),
        rs.seeds() == 1 ? "" : "s", rs.version());
  }

  static XYChart chart(String title, String x, String y) {
    XYChart c = new XYChartBuilder().width(720).height(440).title(title).xAxisTitle(x).yAxisTitle(y).build();
    c.getStyler().setChartTitleFont(c.getStyler().getChartTitleFont().deriveFont(12f));
    c.getStyler().setLegendFont(c.getStyler().getLegendFont().deriveFont(10f));
    c.getStyler().setMarkerSize(5);
    return c;
  }

  /** Mean and min-max over curves (x to y), on the x values that every curve has; non-finite values are skipped. */
  static double[][] band(List<TreeMap<Double, Double>> curves) {
    TreeMap<Double, List<Double>> at = new TreeMap<>();
    for (TreeMap<Double, Double> c : curves) {
      c.forEach((x, y) -> {
        if (Double.isFinite(y)) {
          at.computeIfAbsent(x, k -> new ArrayList<>()).add(y);
        }
      });
    }
    List<double[]> rows = new ArrayList<>();
    at.forEach((x, ys) -> {
      double s = 0;
      double lo = Double.POSITIVE_INFINITY;
      double hi = Double.NEGATIVE_INFINITY;
      for (double y : ys) {
        s += y;
        lo = Math.min(lo, y);
        hi = Math.max(hi, y);
      }
      rows.add(new double[] {x, s / ys.size(), lo, hi});
    });
    double[][] out = new double[4][rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      for (int j = 0; j < 4; j++) {
        out[j][i] = rows.get(i)[j];
      }
    }
    return out;
  }

  static void addBand(XYChart c, String name, List<TreeMap<Double, Double>> curves, int color, boolean positiveOnly) {
    if (positiveOnly) {
      for (TreeMap<Double, Double> m : curves) {
        m.values().removeIf(v -> !(v > 0));
      }
    }
    double[][] b = band(curves);
    if (b[0].length == 0) {
      return;
    }
    Color col = COLORS[color % COLORS.length];
    XYSeries s = c.addSeries(name, b[0], b[1]);
    s.setLineColor(col);
    s.setMarkerColor(col);
    s.setMarker(SeriesMarkers.CIRCLE);
    if (curves.size() > 1) {
      for (int k = 2; k <= 3; k++) {
        XYSeries e = c.addSeries(name + (k == 2 ? " (min)" : " (max)"), b[0], b[k]);
        e.setLineColor(col);
        e.setMarker(SeriesMarkers.NONE);
        e.setLineStyle(new BasicStroke(0.8f));
        e.setShowInLegend(false);
      }
    }
  }

  static TreeMap<Double, Double> byEpoch(TreeMap<Integer, Double> m) {
    TreeMap<Double, Double> out = new TreeMap<>();
    m.forEach((k, v) -> out.put((double) k, v));
    return out;
  }

  /** Groups runs by a key (seeds fall into one group), keeping first-seen order. */
  static Map<String, List<Run>> group(List<Run> runs, Function<Run, String> key) {
    Map<String, List<Run>> g = new LinkedHashMap<>();
    for (Run r : runs) {
      g.computeIfAbsent(key.apply(r), k -> new ArrayList<>()).add(r);
    }
    return g;
  }

  static Figure save(String name, String caption, List<XYChart> panels, Path dir) {
    Path png = dir.resolve(name + ".png");
    AtomicFiles.write(png, out -> BitmapEncoder.saveBitmap(panels, 1, panels.size(), out,
        BitmapEncoder.BitmapFormat.PNG));
    List<Path> svgs = new ArrayList<>();
    for (int i = 0; i < panels.size(); i++) {
      Path svg = dir.resolve(name + (panels.size() == 1 ? "" : "-" + (i + 1)) + ".svg");
      XYChart panel = panels.get(i);
      AtomicFiles.write(svg, out -> VectorGraphicsEncoder.saveVectorGraphic(panel, out,
          VectorGraphicsEncoder.VectorGraphicsFormat.SVG));
      svgs.add(svg);
    }
    return new Figure(name, caption, png, svgs);
  }

  static int log2(int h) {
    return 31 - Integer.numberOfLeadingZeros(h);
  }

  /** E1: train error, final test error and test error at the best-validation epoch vs log2 H, one panel per dataset. */
  static List<Figure> size(ResultSet rs, Path dir) {
    List<XYChart> panels = new ArrayList<>();
    Map<String, List<Run>> byData = group(rs.phase("main"), r -> r.cfg("dataset"));
    for (Map.Entry<String, List<Run>> e : byData.entrySet()) {
      XYChart c = chart("E1 size: " + tag(rs, e.getKey()), "H (hidden units), log2 scale", "error");
      c.getStyler().setxAxisTickLabelsFormattingFunction(x -> String.valueOf(Math.round(Math.pow(2, x))));
      String[][] series = {{"train error (final)", "final", "train_error"}, {"test error (final)", "final",
          "test_error"}, {"test error at best validation", "best_validation", "test_error"}};
      for (int s = 0; s < series.length; s++) {
        Map<Long, TreeMap<Double, Double>> bySeed = new TreeMap<>();
        for (Run r : e.getValue()) {
          int h = r.config().path("hidden").path(0).asInt();
          double v = r.summary(series[s][1], series[s][2]);
          bySeed.computeIfAbsent(r.config().path("seed").asLong(), k -> new TreeMap<>()).put((double) log2(h), v);
        }
        addBand(c, series[s][0], new ArrayList<>(bySeed.values()), s, false);
      }
      panels.add(c);
    }
    if (panels.isEmpty()) {
      return List.of();
    }
    return List.of(save("size", "E1: error vs hidden units H (log2 x-axis), one panel per dataset; " + tag(rs,
        String.join(", ", byData.keySet())), panels, dir));
  }

  /** E2: training loss vs epoch for optimizer x init, one panel per dataset. */
  static List<Figure> rescaling(ResultSet rs, Path dir) {
    List<Run> runs = rs.phase("main");
    if (runs.isEmpty()) {
      return List.of();
    }
    List<XYChart> panels = new ArrayList<>();
    List<String> tags = new ArrayList<>();
    for (Map.Entry<String, List<Run>> d : group(runs, r -> r.cfg("dataset")).entrySet()) {
      Run first = d.getValue().get(0);
      String data = d.getKey() + " " + (first.config().path("layers").isTextual() ? first.cfg("layers")
          : first.cfg("hidden"));
      tags.add(data);
      XYChart c = chart("E2 rescaling: " + tag(rs, data), "epoch", "training cross-entropy (log)");
      c.getStyler().setYAxisLogarithmic(true);
      int i = 0;
      for (Map.Entry<String, List<Run>> e : group(d.getValue(), ResultSet.series(d.getValue())).entrySet()) {
        List<TreeMap<Double, Double>> curves = new ArrayList<>();
        for (Run r : e.getValue()) {
          curves.add(byEpoch(r.curve("train/loss")));
        }
        addBand(c, e.getKey(), curves, i++, true);
      }
      panels.add(c);
    }
    return List.of(save("rescaling", "E2: training loss vs epoch, SGD and Path-SGD from balanced and unbalanced "
        + "(rescaled, same function) initializations, one panel per dataset; " + tag(rs, String.join(", ", tags)),
        panels, dir));
  }

  /** E3/E4: per dataset and dropout, three panels (train loss, train error, test error) vs epoch. */
  static List<Figure> compare(ResultSet rs, Path dir) {
    List<Figure> out = new ArrayList<>();
    Map<String, List<Run>> figs = group(rs.phase("final"), r -> r.cfg("dataset") + "|" + r.cfg("dropout"));
    for (Map.Entry<String, List<Run>> f : figs.entrySet()) {
      String[] k = f.getKey().split("\\|");
      String data = k[0] + " dropout " + k[1];
      String e = Double.parseDouble(k[1]) > 0 ? "E4" : "E3";
      List<XYChart> charts = trainingPanels(e + " ", tag(rs, data), f.getValue(), ResultSet.series(f.getValue()));
      out.add(save("compare-" + k[0] + "-dropout" + k[1], e + ": Path-SGD vs SGD vs AdaGrad, balanced and "
          + "unbalanced, retrained with the selected step size on the full training set; " + tag(rs, data), charts,
          dir));
    }
    return out;
  }

  /** {@code pathsgd plot --runs}: any set of train run folders, one figure (three panels) per data set. */
  static List<Figure> runs(ResultSet rs, Path dir) {
    List<Figure> out = new ArrayList<>();
    for (Map.Entry<String, List<Run>> f : group(rs.finished(), r -> r.cfg("dataset")).entrySet()) {
      String data = f.getKey();
      List<XYChart> charts = trainingPanels("", data + " | " + f.getValue().size() + " run(s), pathsgd "
          + rs.version(), f.getValue(), ResultSet.series(f.getValue()));
      out.add(save("runs-" + data.replaceAll("[^A-Za-z0-9._-]", "_"), "Training cross-entropy (log axis), training "
          + "error and test error vs epoch of " + f.getValue().size() + " run(s) on " + data + "; colour: optimizer, "
          + "line style: initialization, x: diverged (last finite value)", charts, dir));
    }
    return out;
  }

  /** Line style per initialization: solid balanced, dashed unbalanced, dotted anything else. */
  static BasicStroke stroke(String init) {
    return switch (init) {
      case "balanced" -> new BasicStroke(1.8f);
      case "unbalanced" -> new BasicStroke(1.8f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f,
          new float[] {7f, 4f}, 0f);
      default -> new BasicStroke(1.8f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f, new float[] {2f, 3f}, 0f);
    };
  }

  /** Colour per optimizer, the chapter's three first (Path-SGD red, SGD blue, AdaGrad green). */
  static Color color(String optimizer, List<String> seen) {
    int i = switch (optimizer) {
      case "path-sgd" -> 0;
      case "sgd" -> 1;
      case "adagrad" -> 2;
      default -> {
        if (!seen.contains(optimizer)) {
          seen.add(optimizer);
        }
        yield 3 + seen.indexOf(optimizer);
      }
    };
    return COLORS[i % COLORS.length];
  }

  /** Tick labels of a log10-valued axis as plain numbers (0.01, 0.1, 1, 2.5), not exponents. */
  static String logTick(double log10) {
    double v = Math.pow(10, log10);
    return v >= 0.01 && v < 1000 ? new java.math.BigDecimal(String.format(Locale.ROOT, "%.2g", v))
        .stripTrailingZeros().toPlainString() : String.format(Locale.ROOT, "%.0e", v);
  }

  /**
   * The chapter's layout: training cross-entropy (log axis), training error, test error vs epoch; colour per
   * optimizer, line style per initialization, one legend (first panel); a diverged run's curve ends at its last finite
   * value, marked with a cross. Seeds of one series are averaged (runs of a series are grouped by {@code series}).
   */
  static List<XYChart> trainingPanels(String prefix, String tag, List<Run> runs, Function<Run, String> series) {
    String[][] panels = {{"train/loss", "training cross-entropy (log)"}, {"train/error", "training error"},
        {"test/error", "test error"}};
    List<XYChart> charts = new ArrayList<>();
    List<String> other = new ArrayList<>();
    for (int p = 0; p < panels.length; p++) {
      XYChart c = chart(prefix + panels[p][1] + ": " + tag, "epoch", panels[p][1]);
      boolean log = p == 0;
      if (log) {
        c.getStyler().setyAxisTickLabelsFormattingFunction(Figures::logTick);
      }
      c.getStyler().setLegendVisible(p == 0);
      c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
      boolean divergedLegend = false;
      for (Map.Entry<String, List<Run>> e : group(runs, series).entrySet()) {
        Run first = e.getValue().get(0);
        List<TreeMap<Double, Double>> curves = new ArrayList<>();
        for (Run r : e.getValue()) {
          TreeMap<Double, Double> m = new TreeMap<>();
          r.curve(panels[p][0]).forEach((x, y) -> {
            if (Double.isFinite(y) && (!log || y > 0)) {
              m.put((double) x, log ? Math.log10(y) : y);
            }
          });
          curves.add(m);
        }
        double[][] b = band(curves);
        if (b[0].length == 0) {
          continue;
        }
        Color col = color(first.cfg("optimizer"), other);
        XYSeries s = c.addSeries(e.getKey(), b[0], b[1]);
        s.setLineColor(col);
        s.setMarkerColor(col);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineStyle(stroke(first.cfg("init")));
        for (Run r : e.getValue()) {
          if (r.status().equals("diverged") && !curves.get(e.getValue().indexOf(r)).isEmpty()) {
            Map.Entry<Double, Double> last = curves.get(e.getValue().indexOf(r)).lastEntry();
            boolean legend = p == 0 && !divergedLegend;
            XYSeries d = c.addSeries(legend ? "diverged (x at the last finite value)" : e.getKey() + " diverged "
                + r.id(), new double[] {last.getKey()}, new double[] {last.getValue()});
            d.setMarker(SeriesMarkers.CROSS);
            d.setMarkerColor(col);
            d.setLineStyle(new BasicStroke(0f));
            d.setLineColor(col);
            d.setShowInLegend(legend);
            divergedLegend = true;
          }
        }
      }
      charts.add(c);
    }
    return charts;
  }
}
