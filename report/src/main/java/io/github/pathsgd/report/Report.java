package io.github.pathsgd.report;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.report.Figures.Figure;
import io.github.pathsgd.report.ResultSet.Run;
import io.github.pathsgd.train.io.AtomicFiles;
import io.github.pathsgd.train.io.OutputTarget;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code report.md} and a self-contained {@code report.html} (figures embedded as base64 PNG) for a sweep folder,
 * built from its result files alone: the figures, the chapter's claim next to what was measured, a table of runs,
 * the step-size selection (compare) and the provenance.
 */
public final class Report {
  private final StringBuilder md = new StringBuilder();
  private final StringBuilder html = new StringBuilder();
  /** Why a figure or verdict the sweep asks for could not be made, one line each (empty: none). */
  private final List<String> problems = new ArrayList<>();

  private Report() {}

  /** The files a report wrote and why a figure or verdict the sweep asks for could not be made (empty: none). */
  public record Written(List<Path> files, List<String> problems) {}

  /** Draws the figures and writes report.md and report.html into the sweep folder; returns the two paths. */
  public static List<Path> write(Path in) {
    return writeReport(in).files();
  }

  /**
   * As {@link #write}, also saying why a figure or verdict that the sweep's figure kind asks for cannot apply (no
   * finished run of the phase it measures, no optimizer or init it compares): the report says so, and {@code pathsgd
   * report} exits with status 1.
   */
  public static Written writeReport(Path in) {
    Path mdPath = in.resolve("report.md");
    Path htmlPath = in.resolve("report.html");
    // both report files are checked before the figures are drawn (OutputTarget's rule)
    OutputTarget.of(mdPath);
    OutputTarget.of(htmlPath);
    ResultSet rs = ResultSet.read(in);
    List<Figure> figs = Figures.draw(rs);
    Report r = new Report();
    r.build(rs, figs);
    AtomicFiles.writeString(mdPath, r.md.toString());
    AtomicFiles.writeString(htmlPath, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>pathsgd "
        + esc(rs.experiment()) + " report</title><style>" + CSS + "</style></head><body>\n" + r.html + "</body></html>\n");
    return new Written(List.of(mdPath, htmlPath), List.copyOf(r.problems));
  }

  /**
   * The report's style: white, text at least 13 px, figures at their own size (one CSS pixel per figure pixel, never
   * shrunk: a figure wider than the window scrolls sideways), wide tables scroll likewise.
   */
  static final String CSS = "body{font-family:sans-serif;font-size:15px;line-height:1.4;color:#111;background:#fff;"
      + "max-width:1480px;margin:auto;padding:0 16px}"
      + ".scroll{overflow-x:auto}table{border-collapse:collapse;font-size:13px;margin:0.5em 0}"
      + "td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top;text-align:left}th{background:#fff}"
      + "td.n{text-align:right;font-variant-numeric:tabular-nums}"
      + "figure{margin:1em 0;overflow-x:auto}figure img{display:block;max-width:none}figcaption{font-size:14px;"
      + "max-width:1200px;margin-top:4px}";

  private void h(int level, String text) {
    md.append("#".repeat(level)).append(' ').append(text).append("\n\n");
    html.append("<h").append(level).append('>').append(esc(text)).append("</h").append(level).append(">\n");
  }

  private void p(String text) {
    md.append(text).append("\n\n");
    html.append("<p>").append(esc(text)).append("</p>\n");
  }

  private void bullets(List<String> items) {
    html.append("<ul>\n");
    for (String s : items) {
      md.append("- ").append(s).append('\n');
      html.append("<li>").append(esc(s)).append("</li>\n");
    }
    md.append('\n');
    html.append("</ul>\n");
  }

  private void table(List<String> header, List<List<String>> rows) {
    markdownTable(md, header, rows);
    html.append("<div class=\"scroll\"><table><tr>");
    header.forEach(x -> html.append("<th>").append(esc(x)).append("</th>"));
    html.append("</tr>\n");
    for (List<String> r : rows) {
      html.append("<tr>");
      r.forEach(x -> html.append("<td>").append(esc(x)).append("</td>"));
      html.append("</tr>\n");
    }
    html.append("</table></div>\n");
  }

  /** A markdown table and a blank line; a '|' inside a cell is escaped so that it stays in its cell. */
  static void markdownTable(StringBuilder md, List<String> header, List<List<String>> rows) {
    md.append("| ").append(String.join(" | ", header)).append(" |\n|").append("---|".repeat(header.size()))
        .append('\n');
    for (List<String> r : rows) {
      md.append("| ").append(String.join(" | ", r.stream().map(c -> c.replace("|", "\\|")).toList()))
          .append(" |\n");
    }
    md.append('\n');
  }

  private void image(Figure f, Path base) {
    try {
      String rel = base.relativize(f.png()).toString().replace('\\', '/');
      md.append("![").append(f.caption()).append("](").append(rel).append(")\n\n*").append(f.caption())
          .append("* (SVG: ");
      List<String> svgs = new ArrayList<>();
      for (Path s : f.svgs()) {
        svgs.add("[" + s.getFileName() + "](" + base.relativize(s).toString().replace('\\', '/') + ")");
      }
      md.append(String.join(", ", svgs)).append(")\n\n");
      html.append("<figure><img alt=\"").append(esc(f.name())).append("\" width=\"").append(f.width())
          .append("\" height=\"").append(f.height()).append("\" data-px-ratio=\"").append(Figures.PX_RATIO)
          .append("\" data-min-font-px=\"").append(num(Figures.MIN_FONT_PX)).append("\" src=\"data:image/png;base64,")
          .append(Base64.getEncoder().encodeToString(Files.readAllBytes(f.png()))).append("\"><figcaption>")
          .append(esc(f.caption())).append("</figcaption></figure>\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e.getMessage(), e);
    }
  }

  /**
   * The verdicts as a table: a header (claim, then one column per data set) and one row per claim, each cell "verdict:
   * numbers" ({@link Claims}).
   */
  static List<List<String>> claimTable(ResultSet rs) {
    List<Claims.Verdict> vs = Claims.verdicts(rs);
    List<String> datasets = vs.stream().map(Claims.Verdict::dataset).distinct().toList();
    Map<String, Map<String, String>> rows = new java.util.LinkedHashMap<>();
    for (Claims.Verdict v : vs) {
      rows.computeIfAbsent(v.claim(), k -> new java.util.HashMap<>()).put(v.dataset(), v.cell());
    }
    List<List<String>> out = new ArrayList<>();
    List<String> header = new ArrayList<>();
    header.add("claim");
    header.addAll(datasets);
    out.add(header);
    rows.forEach((label, byData) -> {
      List<String> row = new ArrayList<>();
      row.add(label);
      datasets.forEach(d -> row.add(byData.getOrDefault(d, "–")));
      out.add(row);
    });
    return out;
  }

  /** The file a sweep folder holds once its sweep ended with exit status 0 ({@code scripts/run-medium.sh}). */
  public static final String COMPLETE = "COMPLETE";

  /** The experiments of a reproduction folder, in the chapter's order, with their labels. */
  static final List<String[]> EXPERIMENTS = List.of(new String[] {"size", "E1 `size` (Figure 1)"},
      new String[] {"rescaling", "E2 `rescaling` (Figure 2)"},
      new String[] {"compare", "E3/E4 `compare` (Figures 3 and 4)"},
      new String[] {"equal-error", "The abstract's claim, test error at equal training error, `equal-error`"},
      new String[] {"rnn-adding", "Issue 25: ReLU RNNs on the adding problem, `rnn-adding`"},
      new String[] {"rnn-seqmnist", "Issue 25: ReLU RNNs on sequential MNIST, `rnn-seqmnist`"});

  /**
   * The claims table of a reproduction folder (such as {@code results/medium}) as markdown: for every experiment whose
   * folder holds {@link #COMPLETE}, the verdict table of its report (claim × data set, each cell "verdict: numbers")
   * and its figures; an experiment still running is named as such (nothing from its unfinished files, which are
   * not committed). Links are relative to
   * {@code linkBase} (the folder of the file the text goes into). Everything comes from the result files.
   */
  public static String summary(Path root, Path linkBase) {
    StringBuilder out = new StringBuilder();
    Path base = linkBase.toAbsolutePath().normalize();
    for (String[] e : EXPERIMENTS) {
      Path dir = root.resolve(e[0]);
      out.append("**").append(e[1]).append("**");
      if (!Files.isDirectory(dir)) { // a reproduction of some experiments only (results/quick holds E2)
        out.append(": not run here (no `").append(rel(base, dir)).append("/` folder).\n\n");
        continue;
      }
      if (!Files.exists(dir.resolve(COMPLETE))) {
        out.append(": not finished yet (its finished runs are committed in `").append(rel(base, dir))
            .append("/runs/` as they come; the verdicts appear here when the sweep ends).\n\n");
        continue;
      }
      ResultSet rs = ResultSet.read(dir);
      out.append(", ").append(rs.scale()).append(" scale, ").append(rs.finished().size()).append(" runs (`")
          .append(rel(base, dir)).append("/report.md`):\n\n");
      List<List<String>> t = claimTable(rs);
      if (t.size() < 2) {
        out.append("no verdict: ").append(Claims.whyNoVerdict(rs)).append("\n\n");
        continue;
      }
      markdownTable(out, t.get(0), t.subList(1, t.size()));
      Path figs = dir.resolve("figures");
      if (Files.isDirectory(figs)) {
        try (java.util.stream.Stream<Path> st = Files.list(figs)) {
          for (Path png : st.filter(x -> x.toString().endsWith(".png")).sorted().toList()) {
            out.append("![").append(e[0]).append(' ').append(png.getFileName().toString().replace(".png", ""))
                .append("](").append(rel(base, png)).append(")\n");
          }
        } catch (IOException x) {
          throw new UncheckedIOException(x.getMessage(), x);
        }
        out.append('\n');
      }
    }
    return out.toString();
  }

  /** Why a sweep's figure kind draws nothing from its result files, in one line. */
  public static String whyNoFigure(ResultSet rs) {
    List<Run> fin = rs.finished();
    if (fin.isEmpty()) {
      return "no run finished in " + rs.dir() + " (" + rs.all().size() + " recorded)";
    }
    String phase = switch (rs.figure()) {
      case "compare", "rnn" -> "final";
      case "size", "rescaling" -> "main";
      default -> null;
    };
    if (phase != null && rs.phase(phase).isEmpty()) {
      return "figure '" + rs.figure() + "' draws the " + phase + " runs, and none of the " + fin.size()
          + " finished runs in " + rs.dir() + " is one (their phases: " + fin.stream().map(Run::phase).distinct()
          .sorted().toList() + ")";
    }
    return "figure '" + rs.figure() + "' has nothing to draw from the " + fin.size() + " finished runs in " + rs.dir()
        + " (no curve or summary value it plots is finite)";
  }

  private static String rel(Path base, Path p) {
    return base.relativize(p.toAbsolutePath().normalize()).toString().replace('\\', '/');
  }

  /** The markers of the generated block in a README. */
  public static final String BEGIN = "<!-- claims:begin (generated by pathsgd report --summary; do not edit) -->";

  public static final String END = "<!-- claims:end -->";

  /**
   * {@code text} with the block between {@link #BEGIN} and {@link #END} replaced by {@code block}.
   *
   * @throws IllegalArgumentException naming {@code name} when the markers are missing, repeated or out of order
   */
  public static String splice(String text, String block, String name) {
    int b = text.indexOf(BEGIN);
    int e = text.indexOf(END);
    if (b < 0 || e < 0 || e < b || text.indexOf(BEGIN, b + 1) >= 0 || text.indexOf(END, e + 1) >= 0) {
      throw new IllegalArgumentException(name + ": expected exactly one line '" + BEGIN + "' followed by one line '"
          + END + "' around the generated claims block");
    }
    return text.substring(0, b + BEGIN.length()) + "\n" + block + text.substring(e);
  }

  static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

  /** A number as people write it: at most 4 significant digits, plain, with a leading zero (0.09333, 1, 0.5). */
  static String num(double v) {
    if (Double.isNaN(v)) {
      return "–";
    }
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    if (Math.abs(v) < 1e-4 || Math.abs(v) >= 1e6) {
      return String.format(Locale.ROOT, "%.3e", v).replaceAll("\\.?0+e", "e");
    }
    return new java.math.BigDecimal(String.format(Locale.ROOT, "%.4g", v)).stripTrailingZeros().toPlainString();
  }

  /** A JSON value formatted with {@link #num(double)} when it is a number, as it is otherwise, "–" when absent. */
  static String num(JsonNode n) {
    if (n.isNumber()) {
      return num(n.asDouble());
    }
    return n.isMissingNode() || n.isNull() ? "–" : n.asText();
  }

  static String f(double v) {
    return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.4f", v);
  }

  private void build(ResultSet rs, List<Figure> figs) {
    JsonNode sw = rs.sweep();
    h(1, "pathsgd " + rs.experiment() + " (" + rs.scale() + " scale)");
    String desc = sw.path("description").isTextual() ? sw.path("description").asText() + ". " : "";
    String scaleDesc = sw.path("scale_description").isTextual() ? "Scale: " + sw.path("scale_description").asText()
        + ". " : "";
    p(desc + scaleDesc + "Seeds: " + rs.seeds() + ". pathsgd " + rs.version() + ".");
    List<Run> all = rs.all();
    long diverged = all.stream().filter(r -> r.status().equals("diverged")).count();
    long missing = all.stream().filter(r -> r.status().equals("missing-data")).count();
    p(all.size() + " runs recorded: " + rs.finished().size() + " finished (" + diverged + " diverged), " + missing
        + " without data.");
    h(2, "Claim and measurement");
    if (sw.path("claim").isTextual()) {
      p("The chapter: " + sw.path("claim").asText());
    }
    p("Verdicts (" + rs.scale() + " scale; small scales are smoke checks, not evidence), one row per claim and one "
        + "column per data set. Each is exactly one of holds / does not hold / cannot tell: runs that pair by seed "
        + "are compared by a one-sided paired t-test (p < 0.05, and beyond the setting's float32 noise floor), with "
        + "seeds and epochs won and a strength word (clear or thin); runs that do not pair, by max(seed spread, noise "
        + "floor); a 'coincide' claim per seed against the noise pairs of its own setting; a comparison with a "
        + "diverged run is 'cannot tell' and names it (docs/experiments.md, Verdicts).");
    List<List<String>> claimRows = claimTable(rs);
    if (claimRows.size() < 2) {
      String why = Claims.whyNoVerdict(rs);
      p("No verdict: " + why + ".");
      if (List.of("size", "rescaling", "compare", "rnn").contains(rs.figure())) {
        problems.add("no verdict: " + why);
      }
    } else {
      table(claimRows.get(0), claimRows.subList(1, claimRows.size()));
    }
    h(2, "Figures");
    if (figs.isEmpty()) {
      String why = whyNoFigure(rs);
      p("No figure: " + why + ".");
      problems.add("no figure: " + why);
    }
    for (Figure fig : figs) {
      image(fig, rs.dir());
    }
    if (sw.has("step_size")) {
      h(2, "Step-size selection");
      p("Rule: " + sw.path("step_size").path("rule").asText() + ". Tolerance "
          + sw.path("step_size").path("tolerance").asText() + " (fraction), alphas "
          + sw.path("step_size").path("alphas") + ", eta = 10^-alpha.");
      Path sel = rs.dir().resolve("selection.json");
      if (Files.exists(sel)) {
        try {
          JsonNode s = Configs.json().readTree(Files.readAllBytes(sel));
          List<List<String>> rows = new ArrayList<>();
          for (JsonNode g : s.path("groups")) {
            rows.add(List.of(g.path("dataset").asText(), g.path("optimizer").asText(), g.path("init").asText(),
                num(g.path("dropout")), num(g.path("chosen_alpha")), num(g.path("chosen_lr")),
                num(g.path("best_validation_error"))));
          }
          table(List.of("dataset", "optimizer", "init", "dropout", "chosen alpha", "chosen lr", "best validation "
              + "error"), rows);
        } catch (IOException e) {
          throw new UncheckedIOException(e.getMessage(), e);
        }
      }
    }
    h(2, "Runs");
    // every key that tells runs apart has a column (a user's grid of any key), after the chapter's usual ones
    List<String> shown = List.of("dataset", "optimizer", "init", "hidden", "layers", "dropout", "lr", "seed");
    List<String> extra = ResultSet.varying(all).stream().filter(k -> !shown.contains(k)).toList();
    List<List<String>> rows = new ArrayList<>();
    for (Run r : all) {
      List<String> row = new ArrayList<>(List.of(r.id(), r.phase(), r.cfg("dataset"), r.cfg("optimizer"),
          r.cfg("init"), r.config().path("layers").isTextual() ? r.cfg("layers") : r.cfg("hidden"),
          num(r.config().path("dropout")), num(r.config().path("lr"))));
      extra.forEach(k -> row.add(r.cfg(k)));
      // a diverged run's "final" errors are those of its last finished epoch: shown as diverged, not as a result
      boolean div = r.status().equals("diverged");
      String epochs = r.line().path("summary").path("epochs_completed").asText("–");
      row.addAll(List.of(r.cfg("seed"), div ? "diverged in epoch " + (r.line().path("summary")
          .path("epochs_completed").asInt() + 1) : r.status(), epochs, div ? "diverged" : f(r.summary("final",
          "train_error")), div ? "diverged" : f(r.summary("final", "test_error")), div ? "diverged"
          : f(r.summary("best_validation", "test_error"))));
      rows.add(row);
    }
    List<String> header = new ArrayList<>(List.of("run", "phase", "dataset", "optimizer", "init", "hidden or layers",
        "dropout", "lr"));
    header.addAll(extra);
    header.addAll(List.of("seed", "status", "epochs", "final train err", "final test err", "test err at best val"));
    table(header, rows);
    h(2, "Provenance");
    List<String> prov = new ArrayList<>();
    prov.add("pathsgd version " + rs.version());
    TreeMap<String, String> commits = new TreeMap<>();
    String first = null;
    String last = null;
    for (Run r : all) {
      JsonNode pv = r.line().path("provenance");
      if (pv.has("git_commit")) {
        commits.put(pv.path("git_commit").asText(), pv.path("cpu").asText() + ", " + pv.path("cores").asText()
            + " cores, " + pv.path("java_version").asText("") + ", BLAS " + pv.path("blas").asText(""));
      }
      String st = pv.path("start_time").asText(null);
      String en = pv.path("end_time").asText(null);
      if (st != null && (first == null || st.compareTo(first) < 0)) {
        first = st;
      }
      if (en != null && (last == null || en.compareTo(last) > 0)) {
        last = en;
      }
    }
    for (Map.Entry<String, String> e : commits.entrySet()) {
      prov.add("git commit " + e.getKey() + " on " + e.getValue());
    }
    prov.add("runs from " + first + " to " + last);
    prov.add("files: sweep.json, runs.jsonl (one line per run with full config, summary and provenance), metrics.csv "
        + "(tidy run_id,epoch,split,metric,value), timings.csv, runs/<run_id>/");
    bullets(prov);
  }
}
