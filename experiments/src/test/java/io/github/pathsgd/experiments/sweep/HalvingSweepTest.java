package io.github.pathsgd.experiments.sweep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.experiments.config.ConfigException;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import io.github.pathsgd.train.history.EpochRecord;
import io.github.pathsgd.train.listener.TrainingListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Successive halving run by the sweep runner, on a tiny selection sweep (2 groups × 4 step sizes, rungs of 1, 2 and 4
 * epochs, keep 1/2): the pick equals {@link HalvingReplay}'s on the exhaustive sweep, the epochs trained equal the
 * plan's cost with continuation, a continued run records exactly what the same run trained from scratch records,
 * and a sweep interrupted in a continued rung resumes to the same metrics.csv and selection.csv, byte for byte.
 */
class HalvingSweepTest {
  static String spec(String rule) {
    return """
        name: tiny-halving
        description: tiny
        figure: compare
        base: {dataset: mnist-sample, hidden: [8], per_class_train: 4, validation_size: 50, epochs: 4, threads: 1,
               batch_size: 10, seed: 3}
        grid:
          optimizer: [sgd, path-sgd]
        step_size: {alphas: [1, 2, 3, 4], tolerance: 0.005%s}
        scales:
          smoke: {description: s}
          quick: {description: q}
          paper: {description: p}
        """.formatted(rule.equals("halving") ? ", rule: halving, budgets: [1, 2, 4], keep: 0.5" : "");
  }

  static SweepRunner runner(String rule, SweepRunner.Options o) {
    return new SweepRunner(SweepSpec.parse(spec(rule), "tiny"), "smoke", 2, o);
  }

  /** Counts the epochs (≥ 1) the sweep trains, resumed epochs not included. */
  static java.util.function.Function<SweepRun, TrainingListener> counter(AtomicLong n) {
    return r -> new TrainingListener() {
      @Override
      public void onEpoch(EpochRecord rec) {
        if (rec.epoch() >= 1) {
          n.incrementAndGet();
        }
      }
    };
  }

  static List<String> rowsOf(Path metrics, String runId) throws Exception {
    return Files.readAllLines(metrics).stream().filter(l -> l.startsWith(runId + ",")).toList();
  }

  @Test
  void runnerPicksWhatTheReplayPicksAtThePlansCostAndResumesByteIdentical(@TempDir Path tmp) throws Exception {
    // the exhaustive sweep and the replay of the plan on it
    Path ex = tmp.resolve("exhaustive");
    SweepRunner.Outcome eo = runner("exhaustive", SweepRunner.Options.of(ex)).run();
    assertThat(eo.selectionPending()).isFalse();
    SweepSpec hs = SweepSpec.parse(spec("halving"), "tiny");
    SuccessiveHalving.Plan plan = hs.stepSize("smoke").plan();
    assertThat(plan.budgets()).containsExactly(1, 2, 4);
    SweepSpec es = SweepSpec.parse(spec("exhaustive"), "tiny");
    Selection exSel = Selection.compute(es.expand("smoke", 1), ex, es.stepSize("smoke"));
    List<Integer> replayPicks = new ArrayList<>();
    long replayEpochs = 0;
    boolean anyDiverged = false;
    for (Selection.Group g : exSel.groups()) {
      HalvingReplay.Outcome o = HalvingReplay.replay(g.candidates(), plan, 0.005);
      replayPicks.add(o.halving());
      replayEpochs += o.continuedEpochs();
      anyDiverged |= g.candidates().stream().anyMatch(StepSizeRule.Candidate::diverged);
    }

    // the runner's halving sweep
    Path h = tmp.resolve("halving");
    AtomicLong epochs = new AtomicLong();
    SweepRunner.Outcome ho = runner("halving", SweepRunner.Options.of(h).withListeners(counter(epochs))).run();
    assertThat(ho.selectionPending()).isFalse();
    Selection hSel = Selection.compute(hs.expand("smoke", 1), h, hs.stepSize("smoke"));
    assertThat(hSel.complete()).isTrue();
    List<Integer> runnerPicks = hSel.groups().stream().map(g -> g.decision().chosen().alpha()).toList();
    assertThat(runnerPicks).isEqualTo(replayPicks);
    // select epochs: 4 × 1 + 2 × (2 − 1) + 1 × (4 − 2) = 8 per group, if nothing diverges; then 2 seeds × 4 epochs
    // of final runs per group
    long finals = 2L * 2 * 4;
    assertThat(epochs.get()).isEqualTo(replayEpochs + finals);
    if (!anyDiverged) {
      assertThat(epochs.get()).isEqualTo(2 * plan.continuedEpochs(4) + finals).isEqualTo(2 * 8 + finals);
    }
    // 8 rung-0 runs, 4 of rung 1, at most 2 of rung 2, then 2 × 2 finals
    assertThat(ho.runs().stream().filter(r -> r.config().epochs() == 1).count()).isEqualTo(8);
    // every last-rung run is the exhaustive sweep's run of that α (same run id), with the same rows
    for (SweepRun r : ho.runs()) {
      if (r.phase().equals(SweepRun.SELECT) && r.config().epochs() == 4) {
        assertThat(rowsOf(h.resolve("metrics.csv"), r.runId())).isNotEmpty()
            .isEqualTo(rowsOf(ex.resolve("metrics.csv"), r.runId()));
      }
    }
    // the same picks: the same final runs, the same rows
    List<String> exFinals = eo.runs().stream().filter(r -> r.phase().equals(SweepRun.FINAL)).map(SweepRun::runId)
        .toList();
    List<String> hFinals = ho.runs().stream().filter(r -> r.phase().equals(SweepRun.FINAL)).map(SweepRun::runId)
        .toList();
    assertThat(hFinals).isEqualTo(exFinals);
    for (String id : hFinals) {
      assertThat(rowsOf(h.resolve("metrics.csv"), id)).isEqualTo(rowsOf(ex.resolve("metrics.csv"), id));
    }
    try (Stream<Path> s = Files.walk(h)) {
      assertThat(s.filter(p -> p.getFileName().toString().equals(Continuation.FILE)).toList()).isEmpty();
    }
    assertThat(Files.readString(h.resolve("selection.csv"))).startsWith(
        "dataset,optimizer,init,dropout,rung,budget,alpha,lr,run_id,status,");
    assertThat(Files.readString(h.resolve("sweep.json"))).contains("\"halving_budgets\" : [ 1, 2, 4 ]");

    // killed in the first run of rung 2 (continued from epoch 2, killed after its epoch-3 checkpoint), then rerun
    Path k = tmp.resolve("killed");
    SweepRunner.Outcome cut = runner("halving", SweepRunner.Options.of(k).withListeners(SweepHooks.interrupt(12, 3)))
        .run();
    assertThat(cut.interrupted()).isTrue();
    SweepRunner.Outcome rest = runner("halving", SweepRunner.Options.of(k)).run();
    assertThat(rest.interrupted()).isFalse();
    assertThat(Files.readAllBytes(k.resolve("metrics.csv"))).isEqualTo(Files.readAllBytes(h.resolve("metrics.csv")));
    assertThat(Files.readAllBytes(k.resolve("selection.csv")))
        .isEqualTo(Files.readAllBytes(h.resolve("selection.csv")));
  }

  /**
   * With a stop rule (the equal-error preset's), a rung run may stop at or before its budget, and a continued run
   * would not test the rule on the epoch it resumes after: every rung trains from scratch, so halving still records,
   * run for run, what the exhaustive sweep records.
   */
  @Test
  void withAStopRuleHalvingRecordsWhatTheExhaustiveSweepRecords(@TempDir Path tmp) throws Exception {
    java.util.function.Function<String, SweepRunner> run = rule -> new SweepRunner(SweepSpec.parse(spec(rule)
        .replace("seed: 3}", "seed: 3, stop_train_loss: 2.0}"), "tiny"), "smoke", 2, SweepRunner.Options.of(
        tmp.resolve(rule)));
    SweepRunner.Outcome eo = run.apply("exhaustive").run();
    SweepRunner.Outcome ho = run.apply("halving").run();
    // some select runs stop before their budget: the rule is exercised
    long early = 0;
    for (String line : Files.readAllLines(tmp.resolve("halving").resolve("runs.jsonl"))) {
      com.fasterxml.jackson.databind.JsonNode n = io.github.pathsgd.experiments.config.Configs.json().readTree(line);
      early += n.path("summary").path("epochs_completed").asInt() < n.path("config").path("epochs").asInt() ? 1 : 0;
    }
    assertThat(early).isPositive();
    for (SweepRun r : ho.runs()) {
      if (r.phase().equals(SweepRun.FINAL) || r.config().epochs() == 4) {
        assertThat(rowsOf(tmp.resolve("halving").resolve("metrics.csv"), r.runId())).as(r.runId()).isNotEmpty()
            .isEqualTo(rowsOf(tmp.resolve("exhaustive").resolve("metrics.csv"), r.runId()));
      }
    }
    assertThat(eo.runs().stream().filter(r -> r.phase().equals(SweepRun.FINAL)).map(SweepRun::runId).toList())
        .isEqualTo(ho.runs().stream().filter(r -> r.phase().equals(SweepRun.FINAL)).map(SweepRun::runId).toList());
  }

  @Test
  void aLastBudgetOtherThanTheEpochsAndMergeAreRefusedByName() {
    String bad = spec("halving").replace("budgets: [1, 2, 4]", "budgets: [1, 2, 3]");
    assertThatThrownBy(() -> SweepSpec.parse(bad, "tiny")).isInstanceOf(ConfigException.class)
        .hasMessageContaining("the last budget 3 of [1, 2, 3] must equal the runs' epochs 4");
    String rule = spec("exhaustive").replace("tolerance: 0.005", "tolerance: 0.005, rule: halfing");
    assertThatThrownBy(() -> SweepSpec.parse(rule, "tiny")).hasMessageContaining("expected exhaustive or halving")
        .hasMessageContaining("'halfing'");
    SweepSpec hs = SweepSpec.parse(spec("halving"), "tiny");
    // pathsgd-spark runs halving (its first phase is rung 0); experiments merge refuses it, naming the field
    assertThat(new SweepPlan(hs, "smoke", 1, null, 0).first()).hasSize(8)
        .allSatisfy(r -> assertThat(r.config().epochs()).isEqualTo(1));
    assertThatThrownBy(() -> SweepTasks.requireExhaustive(hs, "smoke")).isInstanceOf(ConfigException.class)
        .hasMessageContaining("step_size.rule").hasMessageContaining("successive halving, whose later rungs "
            + "'pathsgd experiments merge' does not plan")
        .hasMessageContaining("--set scales.smoke.step_size.rule=exhaustive");
    // the defaults: ⌈E/4⌉, ⌈E/2⌉, E and keep 1/3
    SweepSpec d = SweepSpec.parse(spec("halving").replace(", budgets: [1, 2, 4], keep: 0.5", ""), "tiny");
    assertThat(d.stepSize("smoke").plan()).isEqualTo(new SuccessiveHalving.Plan(List.of(1, 2, 4), 1.0 / 3));
  }
}
