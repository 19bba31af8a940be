package io.github.pathsgd.report;

import io.github.pathsgd.report.ResultSet.Run;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** The measured side of each claim (docs/paper-spec.md §4 acceptance checks), from result files. */
final class Claims {
  private Claims() {}

  static double mean(List<Double> xs) {
    double s = 0;
    int n = 0;
    for (double x : xs) {
      if (Double.isFinite(x)) {
        s += x;
        n++;
      }
    }
    return n == 0 ? Double.NaN : s / n;
  }

  /** Check (d): test error at the largest H vs at the smallest H with zero training error. */
  static List<String> size(ResultSet rs) {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, List<Run>> e : Figures.group(rs.phase("main"), r -> r.cfg("dataset")).entrySet()) {
      TreeMap<Integer, List<Double>> train = new TreeMap<>();
      TreeMap<Integer, List<Double>> test = new TreeMap<>();
      for (Run r : e.getValue()) {
        int h = r.config().path("hidden").path(0).asInt();
        train.computeIfAbsent(h, k -> new ArrayList<>()).add(r.summary("final", "train_error"));
        test.computeIfAbsent(h, k -> new ArrayList<>()).add(r.summary("final", "test_error"));
      }
      Integer h0 = null;
      for (Map.Entry<Integer, List<Double>> t : train.entrySet()) {
        if (mean(t.getValue()) == 0) {
          h0 = t.getKey();
          break;
        }
      }
      int hMax = test.lastKey();
      int hMin = test.firstKey();
      String s = String.format(Locale.ROOT, "%s: test error %.4f at H=%d, %.4f at H=%d (largest); train error %.4f "
          + "at the largest H", e.getKey(), mean(test.get(hMin)), hMin, mean(test.get(hMax)), hMax,
          mean(train.get(hMax)));
      if (h0 == null) {
        s += "; training error never reached 0, so check (d) does not apply at this scale";
      } else {
        boolean ok = mean(test.get(hMax)) <= mean(test.get(h0));
        s += String.format(Locale.ROOT, "; train error first 0 at H=%d (test %.4f): check (d) %s", h0,
            mean(test.get(h0)), ok ? "holds" : "FAILS");
      }
      out.add(s);
    }
    return out;
  }

  static Map<String, List<Run>> byOptInit(List<Run> runs) {
    return Figures.group(runs, r -> r.cfg("optimizer") + " " + r.cfg("init"));
  }

  static double lastLoss(List<Run> runs) {
    List<Double> v = new ArrayList<>();
    for (Run r : runs) {
      TreeMap<Integer, Double> c = r.curve("train/loss");
      v.add(c.isEmpty() ? Double.NaN : c.lastEntry().getValue());
    }
    return mean(v);
  }

  static double maxGap(List<Run> a, List<Run> b, String metric) {
    double g = Double.NaN;
    for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
      TreeMap<Integer, Double> x = a.get(i).curve(metric);
      TreeMap<Integer, Double> y = b.get(i).curve(metric);
      for (Map.Entry<Integer, Double> e : x.entrySet()) {
        Double w = y.get(e.getKey());
        if (w != null) {
          double d = Math.abs(w - e.getValue());
          g = Double.isNaN(g) ? d : Math.max(g, d);
        }
      }
    }
    return g;
  }

  static List<String> rescaling(ResultSet rs) {
    Map<String, List<Run>> g = byOptInit(rs.phase("main"));
    List<String> out = new ArrayList<>();
    Map<String, Double> fin = new LinkedHashMap<>();
    g.forEach((k, v) -> fin.put(k, lastLoss(v)));
    fin.forEach((k, v) -> out.add(String.format(Locale.ROOT, "final training cross-entropy, %s: %.4f", k, v)));
    if (g.containsKey("sgd balanced") && g.containsKey("sgd unbalanced")) {
      double b = fin.get("sgd balanced");
      double u = fin.get("sgd unbalanced");
      out.add(String.format(Locale.ROOT, "SGD unbalanced / balanced final loss ratio %.3f (%s)", u / b,
          u > b ? "unbalanced is slower, as claimed" : "no slow-down measured"));
    }
    if (g.containsKey("path-sgd balanced") && g.containsKey("path-sgd unbalanced")) {
      out.add(String.format(Locale.ROOT, "Path-SGD balanced vs unbalanced: largest training-loss gap over epochs "
          + "%.2e (invariance predicts float noise only)", maxGap(g.get("path-sgd balanced"),
          g.get("path-sgd unbalanced"), "train/loss")));
    }
    return out;
  }

  static List<String> compare(ResultSet rs) {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, List<Run>> f : Figures.group(rs.phase("final"),
        r -> r.cfg("dataset") + ", dropout " + r.cfg("dropout")).entrySet()) {
      Map<String, List<Run>> g = byOptInit(f.getValue());
      String at = f.getKey();
      StringBuilder s = new StringBuilder(at).append(", final training cross-entropy: ");
      g.forEach((k, v) -> s.append(String.format(Locale.ROOT, "%s %.4f; ", k, lastLoss(v))));
      out.add(s.substring(0, s.length() - 2));
      if (g.containsKey("sgd unbalanced") && g.containsKey("path-sgd unbalanced")) {
        boolean ok = lastLoss(g.get("sgd unbalanced")) > lastLoss(g.get("path-sgd unbalanced"));
        out.add(String.format(Locale.ROOT, "%s, check (b) SGD-unbalanced loss above Path-SGD-unbalanced: %s (%.4f vs "
            + "%.4f)", at, ok ? "holds" : "FAILS", lastLoss(g.get("sgd unbalanced")),
            lastLoss(g.get("path-sgd unbalanced"))));
      }
      if (g.containsKey("path-sgd balanced") && g.containsKey("path-sgd unbalanced")) {
        out.add(String.format(Locale.ROOT, "%s, check (c) Path-SGD balanced vs unbalanced largest test-error gap: "
            + "%.4f", at, maxGap(g.get("path-sgd balanced"), g.get("path-sgd unbalanced"), "test/error")));
      }
      StringBuilder t = new StringBuilder(at).append(", final test error: ");
      for (Map.Entry<String, List<Run>> e : g.entrySet()) {
        List<Double> v = new ArrayList<>();
        e.getValue().forEach(r -> v.add(r.summary("final", "test_error")));
        t.append(String.format(Locale.ROOT, "%s %.4f; ", e.getKey(), mean(v)));
      }
      out.add(t.substring(0, t.length() - 2));
    }
    return out;
  }
}
