package io.github.pathsgd.experiments.sweep;

import io.github.pathsgd.experiments.config.ConfigHash;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.config.TrainConfig;
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

  public static final String HALVING_RULE = "successive halving per group: every step size is trained for the first "
      + "budget; each rung keeps the best fraction (rounded up, at least one) in the rule's own order (within "
      + "tolerance of the rung's best by first epoch t, then by final validation error; then the others by final "
      + "validation error; diverged last); a kept run continues from its previous rung's end-of-budget checkpoint; "
      + "the last rung (the full budget) picks as the exhaustive rule does, and the pick is retrained on the full "
      + "training set (validation_size 0) for every seed";

  /** One group's candidates and decision (with halving: the last rung's candidates). */
  public record Group(Map<String, Object> key, List<SweepRun> runs, List<Candidate> candidates, Decision decision) {}

  /** Halving: one candidate of one rung, with what the rung decided for it. */
  record RungRow(Map<String, Object> key, int rung, int budget, Candidate candidate, Integer firstEpochWithin,
      double best, boolean promoted, boolean chosen) {}

  private final List<Group> groups;
  private final int unfinished;
  private final double tolerance;
  private final List<SweepRun> selectRuns;
  private final boolean decided;
  /** Halving's rows, null for the exhaustive rule. */
  private final List<RungRow> rungRows;

  private Selection(List<Group> groups, int unfinished, double tolerance, List<SweepRun> selectRuns, boolean decided,
      List<RungRow> rungRows) {
    this.groups = groups;
    this.unfinished = unfinished;
    this.tolerance = tolerance;
    this.selectRuns = selectRuns;
    this.decided = decided;
    this.rungRows = rungRows;
  }

  public List<Group> groups() {
    return groups;
  }

  /**
   * Every select run planned so far, in index order: the first phase's runs and, with successive halving, the runs of
   * every later rung whose previous rung is decided.
   */
  public List<SweepRun> selectRuns() {
    return selectRuns;
  }

  /** True when every group is decided (with halving: its last rung). */
  public boolean complete() {
    return decided;
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
    if (st.halving()) {
      return halving(selectRuns, byGroup, keys, out, st);
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
    return new Selection(groups, unfinished, st.tol(), selectRuns, unfinished == 0, null);
  }

  /**
   * Successive halving, rung by rung, from the run folders: a rung is decided once every run of it (in every group)
   * has finished; the next rung's runs (the kept α with the next budget) are then planned, numbered after the runs
   * planned so far in group order, then α order. A kept α whose run diverged is not trained again: it stays in the
   * later rungs as the diverged candidate it was (it can never be picked). A group with absent data is not decided.
   */
  private static Selection halving(List<SweepRun> first, Map<String, List<SweepRun>> byGroup,
      Map<String, Map<String, Object>> keys, Path out, SweepSpec.StepSize st) {
    SuccessiveHalving.Plan plan = st.plan();
    List<SweepRun> planned = new ArrayList<>(first);
    Map<String, List<SweepRun>> alive = new LinkedHashMap<>(byGroup);
    Map<String, List<Candidate>> carried = new LinkedHashMap<>();
    Map<String, Decision> decisions = new LinkedHashMap<>();
    Map<String, List<Candidate>> lastCands = new LinkedHashMap<>();
    java.util.Set<String> missing = new java.util.HashSet<>();
    List<RungRow> rows = new ArrayList<>();
    int unfinished = 0;
    int rung = 0;
    for (; rung < plan.budgets().size(); rung++) {
      Map<String, List<Candidate>> cands = new LinkedHashMap<>();
      for (Map.Entry<String, List<SweepRun>> e : alive.entrySet()) {
        List<Candidate> cs = new ArrayList<>(carried.getOrDefault(e.getKey(), List.of()));
        for (SweepRun r : e.getValue()) {
          RunFolder.State state = RunFolder.inspect(out.resolve("runs").resolve(r.runId()), r);
          if (!state.finished()) {
            if (state.kind() == RunFolder.Kind.MISSING_DATA) {
              missing.add(e.getKey());
            } else {
              unfinished++;
            }
            continue;
          }
          cs.add(candidate(r, state));
        }
        List<Integer> order = byGroup.get(e.getKey()).stream().map(SweepRun::alpha).toList();
        cs.sort(java.util.Comparator.comparingInt(c -> order.indexOf(c.alpha())));
        cands.put(e.getKey(), cs);
      }
      if (unfinished > 0) {
        break;
      }
      boolean last = rung == plan.budgets().size() - 1;
      Map<String, List<SweepRun>> next = new LinkedHashMap<>();
      for (Map.Entry<String, List<Candidate>> e : cands.entrySet()) {
        String g = e.getKey();
        if (missing.contains(g)) {
          continue;
        }
        List<Candidate> cs = e.getValue();
        Decision d = StepSizeRule.select(cs, st.tol());
        List<Integer> kept = last ? List.of() : SuccessiveHalving.promote(plan, cs, st.tol());
        for (Candidate c : cs) {
          boolean chosen = last && d.chosen() != null && d.chosen().runId().equals(c.runId());
          rows.add(new RungRow(keys.get(g), rung, plan.budgets().get(rung), c, d.firstEpochWithin().get(c.runId()),
              d.best(), kept.contains(c.alpha()), chosen));
        }
        if (last) {
          decisions.put(g, d);
          lastCands.put(g, cs);
          continue;
        }
        List<SweepRun> nextRuns = new ArrayList<>();
        List<Candidate> nextCarried = new ArrayList<>();
        for (Candidate c : cs) {
          if (!kept.contains(c.alpha())) {
            continue;
          }
          if (c.diverged()) {
            nextCarried.add(c);
            continue;
          }
          SweepRun from = find(planned, c.runId());
          TrainConfig cfg = SweepPlan.with(from.config(), "epochs", plan.budgets().get(rung + 1));
          SweepRun r = new SweepRun(planned.size(), SweepRun.SELECT, ConfigHash.runId(cfg), cfg, from.alpha());
          planned.add(r);
          nextRuns.add(r);
        }
        next.put(g, nextRuns);
        carried.put(g, nextCarried);
      }
      if (last) {
        break;
      }
      alive = next;
    }
    boolean decided = unfinished == 0 && rung == plan.budgets().size() - 1;
    List<Group> groups = new ArrayList<>();
    for (String g : byGroup.keySet()) {
      Decision d = decided && !missing.contains(g) ? decisions.get(g) : null;
      List<SweepRun> runs = new ArrayList<>();
      for (SweepRun r : planned) {
        if (keyOf(r, st).equals(g)) {
          runs.add(r);
        }
      }
      groups.add(new Group(keys.get(g), runs, lastCands.getOrDefault(g, List.of()), d));
    }
    return new Selection(groups, unfinished, st.tol(), List.copyOf(planned), decided, rows);
  }

  private static String keyOf(SweepRun r, SweepSpec.StepSize st) {
    Map<String, Object> cm = Configs.toMap(r.config());
    Map<String, Object> key = new LinkedHashMap<>();
    for (String k : st.group()) {
      key.put(k, cm.get(k));
    }
    return key.toString();
  }

  private static SweepRun find(List<SweepRun> runs, String id) {
    for (SweepRun r : runs) {
      if (r.runId().equals(id)) {
        return r;
      }
    }
    throw new IllegalStateException("no planned run " + id);
  }

  /** Halving: the runs of decided rungs before the last, each with the run that continues it (null if not kept). */
  Map<SweepRun, SweepRun> continuations(SuccessiveHalving.Plan plan) {
    Map<SweepRun, SweepRun> m = new LinkedHashMap<>();
    for (RungRow row : rungRows) {
      if (row.rung() == plan.budgets().size() - 1) {
        continue;
      }
      SweepRun from = find(selectRuns, row.candidate().runId());
      SweepRun to = null;
      if (row.promoted() && !row.candidate().diverged()) {
        TrainConfig cfg = SweepPlan.with(from.config(), "epochs", plan.budgets().get(row.rung() + 1));
        to = find(selectRuns, ConfigHash.runId(cfg));
      }
      m.put(from, to);
    }
    return m;
  }

  /**
   * A finished select run's candidate: its status and validation error per epoch >= 1; for a regression run (the
   * adding problem: summary.json has a {@code regression} entry) its validation loss, the mean squared error, in the
   * error's place (the columns keep their names), since its error, the fraction of rows off by 0.04 or more, stays
   * near 1 until the task is nearly solved and cannot rank step sizes before that (docs/rnn.md).
   */
  static Candidate candidate(SweepRun r, RunFolder.State state) {
    boolean diverged = SweepRunner.DIVERGED.equals(state.json().path("status").asText());
    String metric = state.json().has("regression") ? "loss" : "error";
    TreeMap<Integer, Double> val = new TreeMap<>();
    for (MetricsCsv.Row row : state.metrics()) {
      if (row.split().equals("validation") && row.metric().equals(metric) && row.epoch() >= 1) {
        val.put(row.epoch(), row.value());
      }
    }
    double[] v = new double[val.isEmpty() ? 0 : val.lastKey()];
    java.util.Arrays.fill(v, Double.NaN);
    val.forEach((ep, x) -> v[ep - 1] = x);
    return new Candidate(r.runId(), r.alpha(), r.config().lr(), diverged, v);
  }

  /**
   * Writes selection.csv (one row per candidate; with halving one row per candidate and rung, with the columns rung,
   * budget and promoted) and selection.json.
   */
  public void write(Path out) {
    StringBuilder csv = new StringBuilder();
    List<String> keyNames = groups.isEmpty() ? List.of() : new ArrayList<>(groups.get(0).key().keySet());
    if (rungRows == null) {
      csv.append(String.join(",", keyNames)).append(keyNames.isEmpty() ? "" : ",")
          .append("alpha,lr,run_id,status,first_epoch_within_tolerance,final_validation_error,group_best,tolerance,"
              + "chosen\n");
    } else {
      csv.append(String.join(",", keyNames)).append(keyNames.isEmpty() ? "" : ",")
          .append("rung,budget,alpha,lr,run_id,status,first_epoch_within_tolerance,final_validation_error,rung_best,"
              + "tolerance,promoted,chosen\n");
      for (RungRow row : rungRows) {
        Candidate c = row.candidate();
        for (String k : keyNames) {
          csv.append(csvValue(row.key().get(k))).append(',');
        }
        csv.append(row.rung()).append(',').append(row.budget()).append(',').append(c.alpha()).append(',')
            .append(MetricsCsv.format(c.lr())).append(',').append(c.runId()).append(',')
            .append(c.diverged() ? SweepRunner.DIVERGED : SweepRunner.COMPLETED).append(',')
            .append(row.firstEpochWithin() == null ? "" : row.firstEpochWithin().toString()).append(',')
            .append(Double.isNaN(c.finalError()) ? "" : MetricsCsv.format(c.finalError())).append(',')
            .append(Double.isNaN(row.best()) ? "" : MetricsCsv.format(row.best())).append(',')
            .append(MetricsCsv.format(tolerance)).append(',').append(row.promoted()).append(',').append(row.chosen())
            .append('\n');
      }
    }
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
        if (rungRows == null) { // with halving, selection.csv holds every rung (above)
          for (String k : keyNames) {
            csv.append(csvValue(g.key().get(k))).append(',');
          }
          csv.append(c.alpha()).append(',').append(MetricsCsv.format(c.lr())).append(',').append(c.runId()).append(',')
            .append(c.diverged() ? SweepRunner.DIVERGED : SweepRunner.COMPLETED).append(',')
            .append(t == null ? "" : t.toString()).append(',')
            .append(Double.isNaN(c.finalError()) ? "" : MetricsCsv.format(c.finalError())).append(',')
            .append(d == null || Double.isNaN(d.best()) ? "" : MetricsCsv.format(d.best())).append(',')
            .append(MetricsCsv.format(tolerance)).append(',').append(chosen).append('\n');
        }
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
    AtomicFiles.writeStringInside(out, out.resolve("selection.csv"), csv.toString());
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("rule", rungRows != null ? HALVING_RULE : RULE);
    root.put("tolerance", tolerance);
    root.put("complete", complete());
    root.put("groups", json);
    RunWriter.writeJson(out, out.resolve("selection.json"), root);
  }

  private static String csvValue(Object v) {
    String s = String.valueOf(v);
    return s.contains(",") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
  }
}
