package io.github.pathsgd.experiments.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.experiments.config.ConfigHash;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.config.Defaults;
import io.github.pathsgd.experiments.config.TrainConfig;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The medium scale of the three presets as planned (no training), the noise-floor runs' own run ids, and the run
 * ids that must not move: the README's default {@code pathsgd train} run and the quick scale's exhaustive selection.
 */
class MediumScaleTest {
  @Test
  void compareMediumIsEveryGroupOnBothDataSetsWithTheFullGridByHalving() {
    SweepSpec s = SweepSpec.load("compare");
    List<SweepRun> rung0 = s.expand("medium", 3);
    // 2 data sets × 3 optimizers × 2 inits × 2 dropouts × 11 α, the first budget (2 epochs), the first seed only
    assertThat(rung0).hasSize(264).allSatisfy(r -> {
      assertThat(r.config().epochs()).isEqualTo(2);
      assertThat(r.config().hidden()).containsExactly(1000, 1000);
      assertThat(r.config().validationSize()).isEqualTo(10000);
      assertThat(r.config().seed()).isEqualTo(1);
      assertThat(r.config().unbalanceFraction()).isEqualTo(0.25);
    });
    assertThat(rung0.stream().map(r -> r.config().dataset()).collect(Collectors.toSet()))
        .containsExactlyInAnyOrder("mnist", "cifar10");
    assertThat(rung0.stream().map(SweepRun::alpha).distinct()).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
    SuccessiveHalving.Plan plan = s.stepSize("medium").plan();
    assertThat(plan).isEqualTo(new SuccessiveHalving.Plan(List.of(2, 5, 10), 0.3333333333333333));
    // per group: 11 × 2 + ⌈11/3⌉ = 4 × (5 − 2) + ⌈4/3⌉ = 2 × (10 − 5) = 44 epochs, against 110 exhaustive
    assertThat(plan.continuedEpochs(11)).isEqualTo(44);
    assertThat(plan.epochs(11)).isEqualTo(62);
    // the quick and paper scales keep the exhaustive rule, so their results do not move
    assertThat(s.stepSize("quick").halving()).isFalse();
    assertThat(s.stepSize("paper").halving()).isFalse();
    assertThat(s.noiseFloor("quick")).isNull();
  }

  @Test
  void noiseRunsAreTheSourceRunWithPinnedThreadsEachInItsOwnFolder() {
    SweepSpec s = SweepSpec.load("size");
    List<SweepRun> main = s.expand("medium", 3);
    assertThat(main).hasSize(2 * 12 * 3);
    List<SweepRun> noise = SweepPlan.noiseRuns(s, "medium", main, main.size());
    assertThat(noise).hasSize(4).allSatisfy(r -> {
      assertThat(r.phase()).isEqualTo(SweepRun.NOISE);
      assertThat(r.config().hidden()).containsExactly(1024);
      assertThat(r.config().seed()).isEqualTo(1);
      assertThat(r.config().pinThreads()).isTrue();
    });
    assertThat(noise.stream().map(r -> r.config().threads())).containsExactly(1, 2, 1, 2);
    assertThat(noise.get(0).index()).isEqualTo(main.size());
    Set<String> ids = noise.stream().map(SweepRun::runId).collect(Collectors.toSet());
    assertThat(ids).hasSize(4).doesNotContainAnyElementsOf(main.stream().map(SweepRun::runId).toList());
    // unpinned, threads stay out of the hash
    TrainConfig c = main.get(0).config();
    assertThat(ConfigHash.runId(SweepPlan.with(c, "threads", 2))).isEqualTo(main.get(0).runId());
    assertThat(ConfigHash.runId(SweepPlan.with(c, "pin_threads", false))).isEqualTo(main.get(0).runId());

    SweepSpec r = SweepSpec.load("rescaling");
    List<SweepRun> rm = r.expand("medium", 3);
    assertThat(rm).hasSize(2 * 2 * 2 * 3).allSatisfy(x -> {
      assertThat(x.config().epochs()).isEqualTo(20);
      assertThat(x.config().lr()).isEqualTo(x.config().optimizer().equals("path-sgd") ? 0.002 : 0.01);
      assertThat(x.config().unbalanceCount()).isNull();
    });
    // Path-SGD from both starts (issue 26: a noise floor for each side of the invariance claim); the balanced pair
    // keeps the run ids results/medium/rescaling holds
    List<SweepRun> rn = SweepPlan.noiseRuns(r, "medium", rm, rm.size());
    assertThat(rn).hasSize(8).allSatisfy(x -> assertThat(x.config().optimizer()).isEqualTo("path-sgd"));
    assertThat(rn.stream().map(x -> x.config().init()).distinct()).containsExactly("balanced", "unbalanced");
    assertThat(rn.stream().map(SweepRun::runId)).contains("f1aacdc9223f", "f3ed154f9242", "822443bc0e31",
        "5abc551c4130");
  }

  /**
   * compare at medium scale: a noise pair for Path-SGD at every init and dropout of both data sets, planned from the
   * committed final runs; the four noise runs results/medium/compare holds keep their run ids.
   */
  @Test
  void compareNoiseRunsCoverEverySettingAndKeepTheCommittedRunIds() throws Exception {
    java.nio.file.Path jsonl = java.nio.file.Path.of("..", "results", "medium", "compare", "runs.jsonl");
    org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.exists(jsonl), jsonl + " not found");
    List<SweepRun> finals = new java.util.ArrayList<>();
    for (String line : java.nio.file.Files.readAllLines(jsonl)) {
      com.fasterxml.jackson.databind.JsonNode n = Configs.json().readTree(line);
      if (n.path("phase").asText().equals(SweepRun.FINAL)) {
        @SuppressWarnings("unchecked")
        Map<String, Object> m = Configs.json().convertValue(n.path("config"), Map.class);
        TrainConfig c = Configs.fromMap(m, TrainConfig.class).resolve();
        assertThat(ConfigHash.runId(c)).isEqualTo(n.path("run_id").asText());
        finals.add(new SweepRun(finals.size(), SweepRun.FINAL, ConfigHash.runId(c), c, null));
      }
    }
    assertThat(finals).hasSize(72);
    List<SweepRun> noise = SweepPlan.noiseRuns(SweepSpec.load("compare"), "medium", finals, finals.size());
    assertThat(noise).hasSize(2 * 2 * 2 * 2).allSatisfy(x -> {
      assertThat(x.config().optimizer()).isEqualTo("path-sgd");
      assertThat(x.config().seed()).isEqualTo(1);
    });
    assertThat(noise.stream().map(x -> x.config().dataset() + " " + x.config().init() + " " + x.config().dropout())
        .distinct()).hasSize(8);
    assertThat(noise.stream().map(SweepRun::runId)).contains("575c5cd1755d", "77504ac4b571", "fbdb8421e056",
        "37fa0607ca32");
  }

  @Test
  void theRunnerTrainsTheNoiseRunsLastWithTheirOwnThreadCountsAndResumes(@org.junit.jupiter.api.io.TempDir
      java.nio.file.Path tmp) throws Exception {
    String yaml = SweepRunnerTest.TINY + "noise_floor: {where: {optimizer: path-sgd, init: balanced, lr: 0.05}, "
        + "threads: [1, 2]}\n";
    SweepRunner.Options o = SweepRunner.Options.of(tmp).withJobs(2);
    SweepRunner.Outcome out = new SweepRunner(SweepSpec.parse(yaml, "tiny"), "smoke", 1, o).run();
    assertThat(out.planned()).isEqualTo(10);
    List<SweepRun> noise = out.runs().subList(8, 10);
    assertThat(noise).allSatisfy(r -> assertThat(r.phase()).isEqualTo(SweepRun.NOISE));
    // --jobs 2 sets one BLAS thread for every other run, not for the pinned ones
    assertThat(noise.stream().map(r -> r.config().threads())).containsExactly(1, 2);
    assertThat(out.runs().subList(0, 8)).allSatisfy(r -> assertThat(r.config().threads()).isEqualTo(1));
    for (SweepRun r : noise) {
      RunFolder.State st = RunFolder.inspect(tmp.resolve("runs").resolve(r.runId()), r);
      assertThat(st.kind()).as(String.valueOf(st.problem())).isEqualTo(RunFolder.Kind.FINISHED);
    }
    List<String> lines = java.nio.file.Files.readAllLines(tmp.resolve("runs.jsonl"));
    assertThat(lines).hasSize(10);
    assertThat(lines.get(9)).contains("\"phase\":\"noise\"").contains("\"pin_threads\":true")
        .contains("\"threads\":2");
    String metrics = java.nio.file.Files.readString(tmp.resolve("metrics.csv"));
    assertThat(metrics).contains(noise.get(0).runId() + ",3,train,loss,").contains(noise.get(1).runId() + ",3,");
    SweepRunner.Outcome again = new SweepRunner(SweepSpec.parse(yaml, "tiny"), "smoke", 1, o).run();
    assertThat(again.trained()).isZero();
    assertThat(again.skipped()).isEqualTo(10);
    assertThat(java.nio.file.Files.readString(tmp.resolve("metrics.csv"))).isEqualTo(metrics);
  }

  @Test
  void theReadmesDefaultRunIdAndTheQuickSelectionRunIdsDoNotMove() {
    Map<String, Object> m = new HashMap<>();
    Defaults.applyTrainCommand(m);
    assertThat(ConfigHash.runId(Configs.fromMap(m, TrainConfig.class).resolve())).isEqualTo("fde03161fddb");
    // the quick compare sweep keeps the exhaustive rule: every α for the full 8 epochs
    List<SweepRun> quick = SweepSpec.load("compare").expand("quick", 1);
    assertThat(quick).hasSize(48).allSatisfy(x -> assertThat(x.config().epochs()).isEqualTo(8));
  }
}
