package io.github.pathsgd.report;

import io.github.pathsgd.report.ResultSet.Run;
import io.github.pathsgd.train.io.AtomicFiles;
import io.github.pathsgd.train.io.OutputTarget;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import javax.imageio.ImageIO;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The chapter's figures from a sweep's result files, with XChart (headless): one PNG per figure (its panels as a grid,
 * one row per setting, drawn at {@link #PX_RATIO}× for print, under a header line naming scale, seeds and version) and
 * one SVG per panel. Several seeds: the mean as a thick line and the min and max as thin lines of the same colour. A
 * run that diverged is left out of the mean, drawn thin and ended with a cross at its last finite value, and the
 * legend says "k of n seeds diverged". Value axes are chosen from the data ({@link ValueAxis}): logarithmic (labelled
 * with plain numbers) where the values span more than a factor of 10 or include 0 (drawn on the floor labelled "0"),
 * else linear and fitted to the data. White backgrounds, text at least {@link #MIN_FONT_PX} px at 1:1.
 *
 * <p>XChart 3.8.8 draws every label (titles, ticks, legend) as glyph outlines ({@code TextLayout.getOutline} and
 * {@code Graphics2D.fill}), so its SVG export holds text as paths, not {@code <text>} elements; VectorGraphics2D
 * would keep strings as text, but XChart never hands it one.
 */
public final class Figures {
  private static final Color[] COLORS = {new Color(0xd62728), new Color(0x1f77b4), new Color(0x2ca02c),
      new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f)};

  /** Size of one panel in CSS pixels (the report shows figures at this size, 1:1). */
  public static final int PANEL_WIDTH = 480;

  public static final int PANEL_HEIGHT = 360;

  /** PNG pixels per CSS pixel. */
  public static final int PX_RATIO = 2;

  /** The smallest font in a figure (tick labels, legend), in CSS pixels at 1:1. */
  public static final float MIN_FONT_PX = 11f;

  private static final Font FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);

  /** What every caption says about the value axes ({@link ValueAxis}). */
  static final String AXES = "value axes logarithmic where the values span more than a factor of 10 or include 0 (0 "
      + "on the floor labelled 0), else linear and fitted to the data";

  /** A figure written to disk: its PNG (width x height in CSS pixels), SVG files (one per panel) and a caption. */
  public record Figure(String name, String caption, Path png, List<Path> svgs, int width, int height) {}

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
      case "runs" -> runs(rs, dir, rs.finished());
      // issue 25's rnn presets: the learning curves of the final runs (one series per arm, seeds as a band)
      case "rnn" -> runs(rs, dir, rs.phase("final").isEmpty() ? rs.finished() : rs.phase("final"));
      default -> throw new IllegalArgumentException("unknown figure kind '" + rs.figure() + "' in sweep.json");
    };
  }

  static String tag(ResultSet rs, String data) {
    return String.format(Locale.ROOT, "%s | %s, %d seed%s, pathsgd %s", data, rs.scale(), rs.seeds(),
        rs.seeds() == 1 ? "" : "s", rs.version());
  }

  /** The header line of a figure: scale, seeds, version and how seeds and diverged runs are drawn. */
  static String header(ResultSet rs) {
    return String.format(Locale.ROOT, "%s scale, %d seed%s, pathsgd %s. %s", rs.scale(), rs.seeds(),
        rs.seeds() == 1 ? "" : "s", rs.version(), rs.seeds() > 1 ? "Thick: mean over seeds; thin: min and max. "
        + "x: a diverged run's last finite value." : "x: a diverged run's last finite value.");
  }

  /** A white panel with the project's fonts (none below {@link #MIN_FONT_PX}) and plain-number tick labels. */
  static XYChart chart(String title, String x, String y) {
    XYChart c = new XYChartBuilder().width(PANEL_WIDTH).height(PANEL_HEIGHT).title(title).xAxisTitle(x).yAxisTitle(y)
        .build();
    XYStyler s = c.getStyler();
    s.setBaseFont(FONT);
    s.setChartTitleFont(FONT.deriveFont(Font.BOLD, 13f));
    s.setAxisTitleFont(FONT.deriveFont(12f));
    s.setAxisTickLabelsFont(FONT.deriveFont(MIN_FONT_PX));
    s.setLegendFont(FONT.deriveFont(MIN_FONT_PX));
    s.setChartFontColor(Color.BLACK);
    s.setAxisTickLabelsColor(Color.BLACK);
    s.setChartBackgroundColor(Color.WHITE);
    s.setPlotBackgroundColor(Color.WHITE);
    s.setChartTitleBoxVisible(false);
    s.setChartTitleBoxBackgroundColor(Color.WHITE);
    s.setPlotBorderColor(new Color(0x444444));
    s.setPlotGridLinesColor(new Color(0xe3e3e3));
    s.setLegendBackgroundColor(new Color(255, 255, 255, 230));
    s.setLegendBorderColor(new Color(0xbbbbbb));
    s.setLegendPosition(Styler.LegendPosition.InsideNE);
    s.setLegendSeriesLineLength(28);
    s.setChartPadding(6);
    s.setMarkerSize(6);
    s.setxAxisTickLabelsFormattingFunction(Figures::num);
    s.setyAxisTickLabelsFormattingFunction(Figures::num);
    return c;
  }

  /** A tick label as a plain number with a leading zero and at most 3 significant digits (0.08, 0.1, 2.5, 8192). */
  static String num(double v) {
    if (Math.abs(v) < 1e-12) {
      return "0";
    }
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return new BigDecimal(String.format(Locale.ROOT, "%.3g", v)).stripTrailingZeros().toPlainString();
  }

  /** A number with {@code digits} significant digits, plain (0.032, 0.5, 2.3) below 1e5, else as 4e+08. */
  static String sig(double v, int digits) {
    if (v == 0) {
      return "0";
    }
    if (Math.abs(v) >= 1e5) {
      return String.format(Locale.ROOT, "%." + (digits - 1) + "e", v).replaceAll("\\.?0+e", "e");
    }
    return new BigDecimal(String.format(Locale.ROOT, "%." + digits + "g", v)).stripTrailingZeros().toPlainString();
  }

  /** Tick labels of a log10-valued axis as plain numbers (0.01, 0.1, 1, 2.5), not exponents. */
  static String logTick(double log10) {
    return sig(Math.pow(10, log10), 2);
  }

  /**
   * The value axis of a panel, chosen from its data: logarithmic (values drawn as log10(v), labelled as plain numbers
   * with enough digits to tell neighbouring ticks apart) when the positive values span more than a factor of 10 or
   * any value is 0, else linear and fitted to the data (not from 0). On a log axis with zeros, 0 is drawn at {@code
   * floor} (the power of ten below the smallest positive value) and that tick is labelled "0".
   */
  record ValueAxis(boolean log, double floor) {
    static ValueAxis of(List<Double> values) {
      double minPos = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      boolean zero = false;
      for (double v : values) {
        if (v == 0) {
          zero = true;
        } else if (v > 0 && Double.isFinite(v)) {
          minPos = Math.min(minPos, v);
          max = Math.max(max, v);
        }
      }
      if (!zero) {
        return new ValueAxis(!(max / minPos < 10), Double.NaN);
      }
      double f = Double.isFinite(minPos) ? Math.floor(Math.log10(minPos)) : -3;
      if (Double.isFinite(minPos) && f > Math.log10(minPos) - 0.3) {
        f -= 1;
      }
      return new ValueAxis(true, Math.pow(10, f));
    }

    boolean hasFloor() {
      return !Double.isNaN(floor);
    }

    /** Where v is drawn: log10 of v on a log axis (0 at the floor), v on a linear one; NaN where it cannot be. */
    double apply(double v) {
      if (!Double.isFinite(v)) {
        return Double.NaN;
      }
      if (!log) {
        return v;
      }
      if (v > 0) {
        return Math.log10(hasFloor() ? Math.max(v, floor) : v);
      }
      return hasFloor() && v == 0 ? Math.log10(floor) : Double.NaN;
    }

    /** The axis title: the quantity, and "(log axis)" on a log axis. */
    String title(String quantity) {
      return log ? quantity + " (log axis)" : quantity;
    }

    /** Applies the axis to a panel whose series are drawn: title, tick spacing, labels and the floor. */
    void style(XYChart c, String quantity) {
      c.setYAxisTitle(title(quantity));
      if (!log) {
        c.getStyler().setYAxisTickMarkSpacingHint(44);
        return;
      }
      double lo = Double.POSITIVE_INFINITY;
      double hi = Double.NEGATIVE_INFINITY;
      for (XYSeries s : c.getSeriesMap().values()) {
        for (double y : s.getYData()) {
          if (Double.isFinite(y)) {
            lo = Math.min(lo, y);
            hi = Math.max(hi, y);
          }
        }
      }
      double span = hi > lo ? hi - lo : 1;
      // about 7 ticks: neighbours differ by a factor 10^(span/7); enough significant digits to tell them apart
      double rel = Math.pow(10, span / 7) - 1;
      int digits = Math.max(2, Math.min(4, (int) Math.ceil(-Math.log10(rel)) + 1));
      double floorLog = hasFloor() ? Math.log10(floor) : Double.NaN;
      c.getStyler().setYAxisTickMarkSpacingHint(36);
      if (hasFloor()) {
        c.getStyler().setYAxisMin(floorLog);
      }
      c.getStyler().setyAxisTickLabelsFormattingFunction(v -> {
        if (hasFloor() && Math.abs(v - floorLog) < 1e-9) {
          return "0";
        }
        return sig(Math.pow(10, v), digits);
      });
    }
  }

  /** Mean and min-max over curves (x to y), on the x values that any curve has; non-finite values are skipped. */
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

  /**
   * One series of a panel: the mean over the curves of the runs that did not diverge (thick, in the legend as {@code
   * label}, with "k of n seeds diverged (x)" when any did), their min and max (thin, same colour, when there are
   * several), and each diverged run as a thin line ending in a cross at its last finite point. Returns the legend
   * series, or null when no curve has a finite point.
   */
  static XYSeries series(XYChart c, String label, Color col, BasicStroke stroke, Marker marker,
      List<TreeMap<Double, Double>> curves, List<Boolean> diverged, ValueAxis axis) {
    List<TreeMap<Double, Double>> ok = new ArrayList<>();
    List<TreeMap<Double, Double>> div = new ArrayList<>();
    for (int i = 0; i < curves.size(); i++) {
      if (curves.get(i).isEmpty()) {
        continue;
      }
      (diverged.get(i) ? div : ok).add(curves.get(i));
    }
    long k = diverged.stream().filter(d -> d).count();
    String name = k == 0 ? label : label + ", " + k + " of " + curves.size() + " seed" + (curves.size() == 1 ? ""
        : "s") + " diverged (x)";
    Color thin = new Color(col.getRed(), col.getGreen(), col.getBlue(), 150);
    XYSeries legend = null;
    double[][] b = onAxis(band(ok), axis);
    if (b[0].length > 0) {
      legend = c.addSeries(name, b[0], b[1]);
      legend.setLineColor(col);
      legend.setMarkerColor(col);
      legend.setMarker(marker);
      legend.setLineStyle(stroke);
      if (ok.size() > 1) {
        for (int j = 2; j <= 3; j++) {
          XYSeries e = c.addSeries(label + (j == 2 ? " (min)" : " (max)"), b[0], b[j]);
          e.setLineColor(thin);
          e.setMarker(SeriesMarkers.NONE);
          e.setLineStyle(new BasicStroke(0.9f));
          e.setShowInLegend(false);
        }
      }
    }
    for (int i = 0; i < div.size(); i++) {
      TreeMap<Double, Double> m = new TreeMap<>();
      div.get(i).forEach((xv, yv) -> {
        double t = axis.apply(yv);
        if (Double.isFinite(t)) {
          m.put(xv, t);
        }
      });
      if (m.isEmpty()) {
        continue;
      }
      double[] x = m.keySet().stream().mapToDouble(Double::doubleValue).toArray();
      double[] y = m.values().stream().mapToDouble(Double::doubleValue).toArray();
      boolean first = legend == null;
      XYSeries d = c.addSeries(first ? name : label + " diverged " + (i + 1), x, y);
      d.setLineColor(first ? col : thin);
      d.setLineStyle(first ? stroke : new BasicStroke(0.9f));
      d.setMarker(SeriesMarkers.NONE);
      d.setShowInLegend(first);
      if (first) {
        legend = d;
      }
      XYSeries mark = c.addSeries(label + " diverged " + (i + 1) + " (x)", new double[] {x[x.length - 1]},
          new double[] {y[y.length - 1]});
      mark.setMarker(SeriesMarkers.CROSS);
      mark.setMarkerColor(col);
      mark.setLineColor(col);
      mark.setLineStyle(new BasicStroke(0f));
      mark.setShowInLegend(false);
    }
    return legend;
  }

  /** The band's mean, min and max drawn on the axis (log10, zero at the floor); points the axis cannot draw dropped. */
  static double[][] onAxis(double[][] b, ValueAxis axis) {
    List<double[]> rows = new ArrayList<>();
    for (int i = 0; i < b[0].length; i++) {
      double[] r = {b[0][i], axis.apply(b[1][i]), axis.apply(b[2][i]), axis.apply(b[3][i])};
      if (Double.isFinite(r[1]) && Double.isFinite(r[2]) && Double.isFinite(r[3])) {
        rows.add(r);
      }
    }
    double[][] out = new double[4][rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      for (int j = 0; j < 4; j++) {
        out[j][i] = rows.get(i)[j];
      }
    }
    return out;
  }

  static TreeMap<Double, Double> byEpoch(TreeMap<Integer, Double> m) {
    TreeMap<Double, Double> out = new TreeMap<>();
    m.forEach((k, v) -> {
      if (Double.isFinite(v)) {
        out.put((double) k, v);
      }
    });
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

  /** A row of a figure's grid: its panels and the name its SVG files carry ("" for a figure of one row). */
  record Row(String name, List<XYChart> panels) {}

  /**
   * Writes the PNG (all rows as a grid under the header, at {@link #PX_RATIO}×) and one SVG per panel: NAME.svg for a
   * figure of one panel, NAME-k.svg for one row, NAME-ROW-k.svg for several rows.
   */
  static Figure save(String name, String caption, String header, List<Row> rows, Path dir) {
    int cols = rows.stream().mapToInt(r -> r.panels().size()).max().orElse(1);
    int width = cols * PANEL_WIDTH;
    List<String> lines = wrap(header, FONT.deriveFont(12f), width - 16);
    int headerHeight = 8 + 16 * lines.size();
    int height = headerHeight + rows.size() * PANEL_HEIGHT;
    BufferedImage img = new BufferedImage(width * PX_RATIO, height * PX_RATIO, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
      g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
      g.scale(PX_RATIO, PX_RATIO);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, width, height);
      g.setColor(Color.BLACK);
      g.setFont(FONT.deriveFont(12f));
      for (int i = 0; i < lines.size(); i++) {
        g.drawString(lines.get(i), 8, 17 + 16 * i);
      }
      for (int r = 0; r < rows.size(); r++) {
        List<XYChart> panels = rows.get(r).panels();
        for (int c = 0; c < panels.size(); c++) {
          Graphics2D gc = (Graphics2D) g.create(c * PANEL_WIDTH, headerHeight + r * PANEL_HEIGHT, PANEL_WIDTH,
              PANEL_HEIGHT);
          try {
            panels.get(c).paint(gc, PANEL_WIDTH, PANEL_HEIGHT);
          } finally {
            gc.dispose();
          }
        }
      }
    } finally {
      g.dispose();
    }
    Path png = dir.resolve(name + ".png");
    AtomicFiles.write(png, out -> ImageIO.write(img, "png", out));
    List<Path> svgs = new ArrayList<>();
    int total = rows.stream().mapToInt(r -> r.panels().size()).sum();
    for (Row row : rows) {
      for (int i = 0; i < row.panels().size(); i++) {
        String base = rows.size() == 1 ? name : name + "-" + row.name();
        Path svg = dir.resolve(base + (total == 1 ? "" : "-" + (i + 1)) + ".svg");
        XYChart panel = row.panels().get(i);
        AtomicFiles.write(svg, out -> VectorGraphicsEncoder.saveVectorGraphic(panel, out,
            VectorGraphicsEncoder.VectorGraphicsFormat.SVG));
        svgs.add(svg);
      }
    }
    return new Figure(name, caption, png, svgs, width, height);
  }

  /** Splits text into lines no wider than {@code max} pixels in {@code font}. */
  static List<String> wrap(String text, Font font, int max) {
    BufferedImage scratch = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = scratch.createGraphics();
    try {
      FontMetrics fm = g.getFontMetrics(font);
      List<String> lines = new ArrayList<>();
      StringBuilder line = new StringBuilder();
      for (String w : text.split(" ")) {
        String next = line.isEmpty() ? w : line + " " + w;
        if (fm.stringWidth(next) > max && !line.isEmpty()) {
          lines.add(line.toString());
          line = new StringBuilder(w);
        } else {
          line = new StringBuilder(next);
        }
      }
      lines.add(line.toString());
      return lines;
    } finally {
      g.dispose();
    }
  }

  static int log2(int h) {
    return 31 - Integer.numberOfLeadingZeros(h);
  }

  /**
   * E1: training error, final test error and test error at the best-validation epoch vs H (log2 axis), the error axis
   * from {@link ValueAxis} (log with 0 on a floor labelled "0" where training error reaches 0), a diamond at the first
   * H where every seed's training error is 0; one panel per dataset.
   */
  static List<Figure> size(ResultSet rs, Path dir) {
    List<XYChart> panels = new ArrayList<>();
    Map<String, List<Run>> byData = group(rs.phase("main"), r -> r.cfg("dataset"));
    List<String> zeros = new ArrayList<>();
    for (Map.Entry<String, List<Run>> e : byData.entrySet()) {
      panels.add(sizePanel(e.getKey(), e.getValue(), zeros));
    }
    if (panels.isEmpty()) {
      return List.of();
    }
    return List.of(save("size", "E1: training and test error vs hidden units H (log2 x-axis; " + AXES + "), one panel "
        + "per dataset; first H with training error 0 on every seed (diamond): " + String.join(", ", zeros) + "; " + tag(rs, String.join(", ", byData.keySet())), header(rs),
        List.of(new Row("", panels)), dir));
  }

  /** One panel of the size figure (see {@link #size}); adds "DATA: H = first zero" or "DATA: none" to zeros. */
  static XYChart sizePanel(String data, List<Run> runs, List<String> zeros) {
    String[][] series = {{"training error (final)", "final", "train_error"}, {"test error (final)", "final",
        "test_error"}, {"test error at best validation", "best_validation", "test_error"}};
    XYChart c = chart(data + ": error vs width H", "H (hidden units, log2 axis)", "error");
    c.getStyler().setxAxisTickLabelsFormattingFunction(x -> String.valueOf(Math.round(Math.pow(2, x))));
    c.getStyler().setLegendPosition(Styler.LegendPosition.InsideSW);
    List<Double> all = new ArrayList<>();
    for (Run r : runs) {
      for (String[] s : series) {
        all.add(r.summary(s[1], s[2]));
      }
    }
    ValueAxis axis = ValueAxis.of(all);
    // the first H at which every seed has training error 0
    TreeMap<Integer, Boolean> zeroAt = new TreeMap<>();
    for (Run r : runs) {
      int h = r.config().path("hidden").path(0).asInt();
      zeroAt.merge(h, r.summary("final", "train_error") == 0, Boolean::logicalAnd);
    }
    Integer firstZero = zeroAt.entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey).findFirst()
        .orElse(null);
    for (int s = 0; s < series.length; s++) {
      Map<Long, TreeMap<Double, Double>> bySeed = new TreeMap<>();
      for (Run r : runs) {
        int h = r.config().path("hidden").path(0).asInt();
        long seed = r.config().path("seed").asLong();
        double v = r.summary(series[s][1], series[s][2]);
        if (Double.isFinite(v)) {
          bySeed.computeIfAbsent(seed, k -> new TreeMap<>()).put((double) log2(h), v);
        }
      }
      List<Boolean> d = new ArrayList<>();
      bySeed.keySet().forEach(seed -> d.add(false)); // a diverged size run has no final error to draw
      series(c, series[s][0], COLORS[s], new BasicStroke(1.8f), SeriesMarkers.CIRCLE,
          new ArrayList<>(bySeed.values()), d, axis);
    }
    if (firstZero != null && axis.hasFloor()) {
      XYSeries m = c.addSeries("first H where every seed has training error 0: " + firstZero,
          new double[] {log2(firstZero)}, new double[] {axis.apply(0)});
      m.setMarker(SeriesMarkers.DIAMOND);
      m.setMarkerColor(Color.BLACK);
      m.setLineColor(Color.BLACK);
      m.setLineStyle(new BasicStroke(0f));
      zeros.add(data + ": H = " + firstZero);
    } else {
      zeros.add(data + ": none");
    }
    axis.style(c, "error");
    placeLegend(c);
    return c;
  }

  /** E2: training loss vs epoch for optimizer x init, one panel per dataset, diverged runs marked. */
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
      panels.add(rescalingPanel(data, d.getValue()));
    }
    return List.of(save("rescaling", "E2: training loss vs epoch, SGD and Path-SGD from balanced (solid) and "
        + "unbalanced (dashed; rescaled, same function) initializations, one panel per dataset; " + AXES + "; " + tag(rs,
        String.join(", ", tags)), header(rs), List.of(new Row("", panels)), dir));
  }

  /** One panel of the rescaling figure: a series per optimizer and init, seeds as mean and min-max. */
  static XYChart rescalingPanel(String data, List<Run> runs) {
    XYChart c = chart(data + ": training cross-entropy", "epoch", "training cross-entropy");
    List<String> other = new ArrayList<>();
    List<Double> all = new ArrayList<>();
    runs.forEach(r -> all.addAll(r.curve("train/loss").values()));
    ValueAxis axis = ValueAxis.of(all);
    for (Map.Entry<String, List<Run>> e : group(runs, ResultSet.series(runs)).entrySet()) {
      Run r0 = e.getValue().get(0);
      List<TreeMap<Double, Double>> curves = new ArrayList<>();
      List<Boolean> div = new ArrayList<>();
      for (Run r : e.getValue()) {
        curves.add(byEpoch(r.curve("train/loss")));
        div.add(r.status().equals("diverged"));
      }
      series(c, e.getKey(), color(r0.cfg("optimizer"), other), stroke(r0.cfg("init")), SeriesMarkers.NONE,
          curves, div, axis);
    }
    axis.style(c, "training cross-entropy");
    placeLegend(c);
    return c;
  }

  /** E3/E4: one grid, a row per dataset and dropout, three panels (train loss, train error, test error) vs epoch. */
  static List<Figure> compare(ResultSet rs, Path dir) {
    List<Row> rows = new ArrayList<>();
    List<String> names = new ArrayList<>();
    Map<String, List<Run>> figs = group(rs.phase("final"), r -> r.cfg("dataset") + "|" + r.cfg("dropout"));
    for (Map.Entry<String, List<Run>> f : figs.entrySet()) {
      String[] k = f.getKey().split("\\|");
      String e = Double.parseDouble(k[1]) > 0 ? "E4" : "E3";
      String data = e + " " + k[0] + ", dropout " + num(Double.parseDouble(k[1]));
      names.add(data);
      rows.add(new Row(k[0] + "-dropout" + k[1], trainingPanels("", data, f.getValue(),
          ResultSet.series(f.getValue()))));
    }
    if (rows.isEmpty()) {
      return List.of();
    }
    return List.of(save("compare", "E3/E4: Path-SGD (red) vs SGD (blue) vs AdaGrad (green), balanced (solid) and "
        + "unbalanced (dashed), retrained with the selected step size on the full training set; rows: "
        + String.join("; ", names) + "; columns: training cross-entropy, training error, test error; " + AXES + "; "
        + tag(rs, String.join(", ", figs.keySet().stream().map(x -> x.split("\\|")[0]).distinct().toList())),
        header(rs), rows, dir));
  }

  /** {@code pathsgd plot --runs}: any set of train run folders, one figure (three panels) per data set. */
  static List<Figure> runs(ResultSet rs, Path dir) {
    return runs(rs, dir, rs.finished());
  }

  /** {@link #runs(ResultSet, Path)} of the runs {@code which}. */
  static List<Figure> runs(ResultSet rs, Path dir, List<Run> which) {
    List<Figure> out = new ArrayList<>();
    for (Map.Entry<String, List<Run>> f : group(which, r -> r.cfg("dataset")).entrySet()) {
      String data = f.getKey();
      List<XYChart> charts = trainingPanels("", data, f.getValue(), ResultSet.series(f.getValue()));
      boolean mse = f.getValue().stream().allMatch(r -> r.line().path("summary").has("regression"));
      out.add(save("runs-" + data.replaceAll("[^A-Za-z0-9._-]", "_"), (mse ? "Training MSE, training error (the "
          + "fraction of sequences off by 0.04 or more)" : "Training cross-entropy, training error") + " and "
          + "test error vs epoch (" + AXES + ") of " + f.getValue().size() + " run(s) on " + data + "; colour: optimizer, "
          + "line style: initialization, x: diverged (last finite value)", f.getValue().size() + " run(s), pathsgd "
          + rs.version() + ". x: a diverged run's last finite value.", List.of(new Row("", charts)), dir));
    }
    return out;
  }

  /**
   * Puts the legend in an inside corner of the plot that covers no drawn point (each line sampled along its segments),
   * NE first; where every corner covers data, the value axis is raised to leave the legend room above the data. The
   * plot area and legend size are estimated from the panel's size and fonts.
   */
  static void placeLegend(XYChart c) {
    List<XYSeries> all = new ArrayList<>(c.getSeriesMap().values());
    List<String> shown = all.stream().filter(XYSeries::isShowInLegend).map(XYSeries::getName).toList();
    if (shown.isEmpty() || !c.getStyler().isLegendVisible()) {
      return;
    }
    double x0 = Double.POSITIVE_INFINITY;
    double x1 = Double.NEGATIVE_INFINITY;
    double y0 = c.getStyler().getYAxisMin() != null ? c.getStyler().getYAxisMin() : Double.POSITIVE_INFINITY;
    double y1 = Double.NEGATIVE_INFINITY;
    for (XYSeries s : all) {
      for (double x : s.getXData()) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
      }
      for (double y : s.getYData()) {
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
    // the plot area, roughly: left of it the y ticks and title, below it the x ticks and title, above it the title
    double left = 70;
    double right = PANEL_WIDTH - 12;
    double top = 30;
    double bottom = PANEL_HEIGHT - 48;
    int longest = shown.stream().mapToInt(String::length).max().orElse(0);
    double w = Math.min(right - left, 48 + longest * MIN_FONT_PX * 0.56);
    double h = 10 + shown.size() * (MIN_FONT_PX + 7);
    Styler.LegendPosition[] corners = {Styler.LegendPosition.InsideNE, Styler.LegendPosition.InsideSW,
        Styler.LegendPosition.InsideNW, Styler.LegendPosition.InsideSE};
    int best = 0;
    long bestCount = Long.MAX_VALUE;
    for (int k = 0; k < corners.length; k++) {
      boolean east = k == 0 || k == 3;
      boolean north = k == 0 || k == 2;
      double bx0 = east ? right - w : left;
      double by0 = north ? top : bottom - h;
      long n = 0;
      for (XYSeries s : all) {
        double[] xs = s.getXData();
        double[] ys = s.getYData();
        for (int i = 0; i < xs.length; i++) {
          int steps = i + 1 < xs.length ? 12 : 1;
          for (int t = 0; t < steps; t++) {
            double f = t / 12.0;
            double x = i + 1 < xs.length ? xs[i] + f * (xs[i + 1] - xs[i]) : xs[i];
            double y = i + 1 < xs.length ? ys[i] + f * (ys[i + 1] - ys[i]) : ys[i];
            double px = left + (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5) * (right - left);
            double py = bottom - (y1 > y0 ? (y - y0) / (y1 - y0) : 0.5) * (bottom - top);
            if (px >= bx0 && px <= bx0 + w && py >= by0 && py <= by0 + h) {
              n++;
            }
          }
        }
      }
      if (n < bestCount) {
        bestCount = n;
        best = k;
      }
    }
    if (bestCount <= 2) {
      c.getStyler().setLegendPosition(corners[best]);
      return;
    }
    // every corner covers data: raise the top of the value axis so that the legend (NE) sits above the data
    double room = h + 6;
    double plotH = bottom - top;
    c.getStyler().setYAxisMax(y1 + (y1 - y0) * room / Math.max(plotH - room, plotH / 3));
    // no tick labels in the room above the data (an error axis does not go on to 10): blank labels, made of spaces
    // so that no two are equal (XChart spaces its ticks until all labels differ)
    Function<Double, String> f = c.getStyler().getyAxisTickLabelsFormattingFunction();
    double top0 = y1;
    double unit = Math.max(y1 - y0, 1e-12) / 8;
    c.getStyler().setyAxisTickLabelsFormattingFunction(v -> v > top0 + 1e-9 * Math.max(1, Math.abs(top0))
        ? " ".repeat(1 + (int) Math.min(1000, Math.floor((v - top0) / unit))) : f.apply(v));
    c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
  }

  /** Line style per initialization: solid balanced, dashed unbalanced, dotted anything else. */
  static BasicStroke stroke(String init) {
    return switch (init) {
      case "balanced" -> new BasicStroke(2f);
      case "unbalanced" -> new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f,
          new float[] {7f, 4f}, 0f);
      default -> new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f, new float[] {2f, 3f}, 0f);
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

  /**
   * The chapter's layout: training cross-entropy, training error, test error vs epoch, each value axis chosen from
   * its data ({@link ValueAxis}); colour per optimizer, line style per initialization, one legend (first panel). Seeds
   * of one series (runs grouped by {@code series}) give the mean (thick) and min and max (thin); a diverged run's
   * curve ends at its last finite value, marked with a cross, and the legend says how many seeds diverged.
   */
  static List<XYChart> trainingPanels(String prefix, String tag, List<Run> runs, Function<Run, String> series) {
    // a regression run (the adding problem): its loss is the MSE, its error the fraction off by 0.04 or more
    boolean mse = !runs.isEmpty() && runs.stream().allMatch(r -> r.line().path("summary").has("regression"));
    String[][] panels = {{"train/loss", mse ? "training MSE" : "training cross-entropy"}, {"train/error",
        "training error"}, {"test/error", "test error"}};
    List<XYChart> charts = new ArrayList<>();
    List<String> other = new ArrayList<>();
    for (int p = 0; p < panels.length; p++) {
      XYChart c = chart(prefix + tag + ": " + panels[p][1], "epoch", panels[p][1]);
      c.getStyler().setLegendVisible(p == 0);
      List<Double> all = new ArrayList<>();
      for (Run r : runs) {
        all.addAll(r.curve(panels[p][0]).values());
      }
      ValueAxis axis = ValueAxis.of(all);
      for (Map.Entry<String, List<Run>> e : group(runs, series).entrySet()) {
        Run first = e.getValue().get(0);
        List<TreeMap<Double, Double>> curves = new ArrayList<>();
        List<Boolean> div = new ArrayList<>();
        for (Run r : e.getValue()) {
          curves.add(byEpoch(r.curve(panels[p][0])));
          div.add(r.status().equals("diverged"));
        }
        series(c, e.getKey(), color(first.cfg("optimizer"), other), stroke(first.cfg("init")), SeriesMarkers.NONE,
            curves, div, axis);
      }
      axis.style(c, panels[p][1]);
      placeLegend(c);
      charts.add(c);
    }
    return charts;
  }
}
