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

  /** E2: training loss vs epoch for optimizer x init. */
  static List<Figure> rescaling(ResultSet rs, Path dir) {
    List<Run> runs = rs.phase("main");
    if (runs.isEmpty()) {
      return List.of();
    }
    String data = runs.get(0).cfg("dataset") + " " + runs.get(0).cfg("hidden");
    XYChart c = chart("E2 rescaling: " + tag(rs, data), "epoch", "training cross-entropy (log)");
    c.getStyler().setYAxisLogarithmic(true);
    int i = 0;
    for (Map.Entry<String, List<Run>> e : group(runs, r -> r.cfg("optimizer") + " " + r.cfg("init")).entrySet()) {
      List<TreeMap<Double, Double>> curves = new ArrayList<>();
      for (Run r : e.getValue()) {
        curves.add(byEpoch(r.curve("train/loss")));
      }
      addBand(c, e.getKey(), curves, i++, true);
    }
    return List.of(save("rescaling", "E2: training loss vs epoch, SGD and Path-SGD from balanced and unbalanced "
        + "(rescaled, same function) initializations; " + tag(rs, data), List.of(c), dir));
  }

  /** E3/E4: per dataset and dropout, three panels (train loss, train error, test error) vs epoch. */
  static List<Figure> compare(ResultSet rs, Path dir) {
    List<Figure> out = new ArrayList<>();
    List<Run> runs = rs.phase("final");
    Map<String, List<Run>> figs = group(runs, r -> r.cfg("dataset") + "|" + r.cfg("dropout"));
    for (Map.Entry<String, List<Run>> f : figs.entrySet()) {
      String[] k = f.getKey().split("\\|");
      String data = k[0] + " dropout " + k[1];
      String[][] panels = {{"train/loss", "train CE"}, {"train/error", "train error"},
          {"test/error", "test error"}};
      List<XYChart> charts = new ArrayList<>();
      for (String[] p : panels) {
        XYChart c = chart((Double.parseDouble(k[1]) > 0 ? "E4 " : "E3 ") + p[1] + ": " + tag(rs, data), "epoch",
            p[1]);
        int i = 0;
        for (Map.Entry<String, List<Run>> e : group(f.getValue(),
            r -> r.cfg("optimizer") + " " + r.cfg("init") + " (lr " + r.cfg("lr") + ")").entrySet()) {
          List<TreeMap<Double, Double>> curves = new ArrayList<>();
          for (Run r : e.getValue()) {
            curves.add(byEpoch(r.curve(p[0])));
          }
          addBand(c, e.getKey(), curves, i++, false);
        }
        charts.add(c);
      }
      String name = "compare-" + k[0] + "-dropout" + k[1];
      out.add(save(name, (Double.parseDouble(k[1]) > 0 ? "E4" : "E3") + ": Path-SGD vs SGD vs AdaGrad, balanced and "
          + "unbalanced, retrained with the selected step size on the full training set; " + tag(rs, data), charts,
          dir));
    }
    return out;
  }
}
