package io.github.pathsgd.experiments.sweep;

import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.rundir.MetricsCsv;
import io.github.pathsgd.experiments.rundir.RunWriter;
import io.github.pathsgd.experiments.sweep.StepSizeRule.Candidate;
import io.github.pathsgd.experiments.sweep.StepSizeRule.Decision;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import io.github.pathsgd.train.io.AtomicFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The step-size selection of a sweep: {@link StepSizeRule} applied per group to the finished "select" runs. */
public final class Selection {
  public static final String RULE = "per group, best = lowest validation error (epochs >= 1) over all non-diverged "
      + "step sizes; for each step size, t = first epoch with validation error <= best + tolerance; pick the smallest "
      + "t, ties by the lower final validation error, then the smaller alpha; diverged runs are never picked; the "
      + "pick is retrained on the full training set (validation_size 0) for every seed";

  /** One group's candidates and decision. */
  public record Group(Map<String, Object> key, List<SweepRun> runs, List<Candidate> candidates, Decision decision) {}

  private final List<Group> groups;
  private final int unfinished;
  private final double tolerance;

  private Selection(List<Group> groups, int unfinished, double tolerance) {
    this.groups = groups;
    this.unfinished = unfinished;
    this.tolerance = tolerance;
  }

  public List<Group> groups() {
    return groups;
  }

  public boolean complete() {
    return unfinished == 0;
  }

  public int unfinished() {
    return unfinished;
  }

  /** The select runs chosen, one per group that has a pick, in group order. */
  public List<SweepRun> chosenRuns() {
    List<SweepRun> out = new ArrayList<>();
    for (Group g : groups) {
      if (g.decision() != null && g.decision().chosen() != null) {
        for (SweepRun r : g.runs()) {
          if (r.runId().equals(g.decision().chosen().runId())) {
            out.add(r);
          }
        }
      }
    }
    return out;
  }

  /** Reads the finished select runs' summaries and validation histories from {@code out/runs} and applies the rule. */
  public static Selection compute(List<SweepRun> selectRuns, Path out, SweepSpec.StepSize st) {
    Map<String, List<SweepRun>> byGroup = new LinkedHashMap<>();
    Map<String, Map<String, Object>> keys = new LinkedHashMap<>();
    for (SweepRun r : selectRuns) {
      Map<String, Object> cm = Configs.toMap(r.config());
      Map<String, Object> key = new LinkedHashMap<>();
      for (String k : st.group()) {
        key.put(k, cm.get(k));
      }
      String ks = key.toString();
      keys.put(ks, key);
      byGroup.computeIfAbsent(ks, x -> new ArrayList<>()).add(r);
    }
    int unfinished = 0;
    List<Group> groups = new ArrayList<>();
    for (Map.Entry<String, List<SweepRun>> e : byGroup.entrySet()) {
      List<Candidate> cs = new ArrayList<>();
      boolean missing = false;
      for (SweepRun r : e.getValue()) {
        RunFolder.State state = RunFolder.inspect(out.resolve("runs").resolve(r.runId()), r);
        if (!state.finished()) {
          if (state.kind() != RunFolder.Kind.MISSING_DATA) {
            unfinished++; // not yet trained, or damaged (to be trained again)
          }
          missing = true;
          continue;
        }
        cs.add(candidate(r, state));
      }
      Decision dec = missing ? null : StepSizeRule.select(cs, st.tol());
      groups.add(new Group(keys.get(e.getKey()), e.getValue(), cs, dec));
    }
    return new Selection(groups, unfinished, st.tol());
  }

  /** A finished select run's candidate: its status and validation error per epoch >= 1. */
  static Candidate candidate(SweepRun r, RunFolder.State state) {
    boolean diverged = SweepRunner.DIVERGED.equals(state.json().path("status").asText());
    TreeMap<Integer, Double> val = new TreeMap<>();
    for (MetricsCsv.Row row : state.metrics()) {
      if (row.split().equals("validation") && row.metric().equals("error") && row.epoch() >= 1) {
        val.put(row.epoch(), row.value());
      }
    }
    double[] v = new double[val.isEmpty() ? 0 : val.lastKey()];
    java.util.Arrays.fill(v, Double.NaN);
    val.forEach((ep, x) -> v[ep - 1] = x);
    return new Candidate(r.runId(), r.alpha(), r.config().lr(), diverged, v);
  }

  /** Writes selection.csv (one row per candidate) and selection.json. */
  public void write(Path out) {
    StringBuilder csv = new StringBuilder();
    List<String> keyNames = groups.isEmpty() ? List.of() : new ArrayList<>(groups.get(0).key().keySet());
    csv.append(String.join(",", keyNames)).append(keyNames.isEmpty() ? "" : ",")
        .append("alpha,lr,run_id,status,first_epoch_within_tolerance,final_validation_error,group_best,tolerance,"
            + "chosen\n");
    List<Map<String, Object>> json = new ArrayList<>();
    for (Group g : groups) {
      Map<String, Object> gj = new LinkedHashMap<>(g.key());
      Decision d = g.decision();
      gj.put("decided", d != null);
      gj.put("best_validation_error", d == null || Double.isNaN(d.best()) ? null : d.best());
      gj.put("chosen_run_id", d == null || d.chosen() == null ? null : d.chosen().runId());
      gj.put("chosen_alpha", d == null || d.chosen() == null ? null : d.chosen().alpha());
      gj.put("chosen_lr", d == null || d.chosen() == null ? null : d.chosen().lr());
      List<Map<String, Object>> cands = new ArrayList<>();
      for (Candidate c : g.candidates()) {
        Integer t = d == null ? null : d.firstEpochWithin().get(c.runId());
        boolean chosen = d != null && d.chosen() != null && d.chosen().runId().equals(c.runId());
        for (String k : keyNames) {
          csv.append(csvValue(g.key().get(k))).append(',');
        }
        csv.append(c.alpha()).append(',').append(MetricsCsv.format(c.lr())).append(',').append(c.runId()).append(',')
            .append(c.diverged() ? SweepRunner.DIVERGED : SweepRunner.COMPLETED).append(',')
            .append(t == null ? "" : t.toString()).append(',')
            .append(Double.isNaN(c.finalError()) ? "" : MetricsCsv.format(c.finalError())).append(',')
            .append(d == null || Double.isNaN(d.best()) ? "" : MetricsCsv.format(d.best())).append(',')
            .append(MetricsCsv.format(tolerance)).append(',').append(chosen).append('\n');
        Map<String, Object> cj = new LinkedHashMap<>();
        cj.put("run_id", c.runId());
        cj.put("alpha", c.alpha());
        cj.put("lr", c.lr());
        cj.put("diverged", c.diverged());
        cj.put("first_epoch_within_tolerance", t);
        cj.put("final_validation_error", Double.isNaN(c.finalError()) ? null : c.finalError());
        cj.put("chosen", chosen);
        cands.add(cj);
      }
      gj.put("candidates", cands);
      json.add(gj);
    }
    AtomicFiles.writeString(out.resolve("selection.csv"), csv.toString());
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("rule", RULE);
    root.put("tolerance", tolerance);
    root.put("complete", complete());
    root.put("groups", json);
    RunWriter.writeJson(out.resolve("selection.json"), root);
  }

  private static String csvValue(Object v) {
    String s = String.valueOf(v);
    return s.contains(",") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
  }
}
