package io.github.pathsgd.spark;

import static io.github.pathsgd.spark.SparkSweepTest.read;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.sweep.SuccessiveHalving;
import io.github.pathsgd.experiments.sweep.SweepRunner;
import io.github.pathsgd.experiments.sweep.SweepSpec;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import io.github.pathsgd.train.history.EpochRecord;
import io.github.pathsgd.train.listener.TrainingListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Successive halving on real Spark local mode against the embedded runner (one BLAS thread per run in both): one Spark
 * job per rung, then the final runs; a kept α's later-rung run continues from the previous rung's checkpoint on both
 * (on Spark through the result store), and both end with the same selection, metrics.csv and models, byte for byte.
 */
class SparkHalvingTest {
  /** 2 groups × 4 α, rungs of 1, 2 and 3 epochs, keep 1/2: 8 + 4 + 2 select runs, then 2 final runs. */
  static final String HALVING = """
      name: tinyhalving
      description: tiny halving
      figure: compare
      base: {dataset: mnist-sample, hidden: [8], per_class_train: 4, validation_size: 50, epochs: 3, batch_size: 10,
             seed: 3}
      grid:
        optimizer: [sgd, path-sgd]
      step_size: {alphas: [1, 2, 3, 4], tolerance: 0.005, rule: halving, budgets: [1, 2, 3], keep: 0.5}
      scales:
        smoke: {description: s}
        quick: {description: q}
        paper: {description: p}
      """;

  static final List<String> SAME = List.of("metrics.csv", "selection.csv", "selection.json", "sweep.json");

  @TempDir static Path shared;
  static JavaSparkContext sc;
  static Path embedded;
  static SweepRunner.Outcome embeddedOutcome;
  /** Epochs (≥ 1) the embedded runner trained, resumed and continued epochs not included. */
  static final AtomicLong embeddedEpochs = new AtomicLong();

  @BeforeAll
  static void embeddedSweepAndSpark() {
    embedded = shared.resolve("embedded");
    TrainingListener counter = new TrainingListener() {
      @Override
      public void onEpoch(EpochRecord rec) {
        if (rec.epoch() >= 1) {
          embeddedEpochs.incrementAndGet();
        }
      }
    };
    // jobs 2: one BLAS thread per run, as on Spark
    embeddedOutcome = new SweepRunner(SweepSpec.parse(HALVING, "test"), "smoke", 1,
        SweepRunner.Options.of(embedded).withJobs(2).withListeners(r -> counter)).run();
    assertThat(embeddedOutcome.interrupted()).isFalse();
    assertThat(embeddedOutcome.selectionPending()).isFalse();
    sc = SparkSweepTest.local(null);
  }

  @AfterAll
  static void stopSpark() {
    if (sc != null) {
      sc.close();
    }
  }

  static SuccessiveHalving.Plan plan() {
    return SweepSpec.parse(HALVING, "test").stepSize("smoke").plan();
  }

  static List<String> chosenAlphas(Path out) throws Exception {
    JsonNode root = Configs.json().readTree(Files.readAllBytes(out.resolve("selection.json")));
    assertThat(root.path("complete").asBoolean()).isTrue();
    List<String> picks = new ArrayList<>();
    for (JsonNode g : root.path("groups")) {
      picks.add(g.path("optimizer").asText() + " α " + g.path("chosen_alpha").asText());
    }
    return picks;
  }

  /** The run ids of runs.jsonl, in order (with their index in the plan). */
  static List<String> runsJsonl(Path out) throws Exception {
    List<String> ids = new ArrayList<>();
    for (String l : Files.readAllLines(out.resolve("runs.jsonl"))) {
      JsonNode n = Configs.json().readTree(l);
      ids.add(n.path("index").asInt() + " " + n.path("run_id").asText());
    }
    return ids;
  }

  static List<Path> named(Path dir, String name) throws Exception {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> p.getFileName().toString().equals(name)).toList();
    }
  }

  static void assertSameAsEmbedded(Path sp) throws Exception {
    for (String f : SAME) {
      assertThat(read(sp.resolve(f))).as(f).isEqualTo(read(embedded.resolve(f)));
    }
    assertThat(chosenAlphas(sp)).hasSize(2).isEqualTo(chosenAlphas(embedded));
    assertThat(runsJsonl(sp)).hasSize(16).isEqualTo(runsJsonl(embedded));
    // every run's final network, bit for bit: the later rungs' runs trained from epoch 0 here and continued from the
    // previous rung's checkpoint there
    for (SweepRun r : embeddedOutcome.runs()) {
      Path m = Path.of("runs", r.runId(), "model.safetensors");
      assertThat(Files.readAllBytes(sp.resolve(m))).as(m.toString())
          .isEqualTo(Files.readAllBytes(embedded.resolve(m)));
    }
    assertThat(named(sp, "continue.bin")).isEmpty();
    assertThat(named(sp.resolve("runs"), "checkpoint.bin")).isEmpty();
  }

  @Test
  void oneSparkJobPerRungThenTheFinalRunsWithTheEmbeddedRunnersSelectionAndMetrics(@TempDir Path tmp)
      throws Exception {
    SuccessiveHalving.Plan plan = plan();
    assertThat(read(embedded.resolve("runs.jsonl"))).doesNotContain("\"status\":\"diverged\""); // the counts below
    // per group: 4 α for 1 epoch, survivors(4) = 2 for 2 epochs, survivors(2) = 1 for 3 epochs; 2 groups
    assertThat(plan.survivors(4)).isEqualTo(2);
    assertThat(plan.survivors(2)).isEqualTo(1);
    Path sp = tmp.resolve("spark");
    java.io.ByteArrayOutputStream logBytes = new java.io.ByteArrayOutputStream();
    SparkSweep.Outcome o = new SparkSweep(SweepSpec.parse(HALVING, "test"), "smoke", 1, new SparkSweep.Options(sp, 1,
        null, tmp.resolve("scratch"), new java.io.PrintStream(logBytes, true, "UTF-8"))).run(sc);
    String log = logBytes.toString("UTF-8");
    assertThat(o.phases()).containsExactly(new SparkSweep.Phase("select rung 0", 8, 8),
        new SparkSweep.Phase("select rung 1", 4, 4), new SparkSweep.Phase("select rung 2", 2, 2),
        new SparkSweep.Phase("final", 2, 2));
    assertThat(o.jobs()).isEqualTo(4);
    assertThat(o.planned()).isEqualTo(16).isEqualTo(embeddedOutcome.planned());
    assertThat(o.trained()).isEqualTo(16).isEqualTo(embeddedOutcome.trained());
    assertThat(o.skipped()).isZero();
    assertThat(o.retried()).isZero();
    assertThat(o.selectionPending()).isFalse();
    assertThat(o.damaged()).isEmpty();
    assertSameAsEmbedded(sp);
    // selection.csv: a row per candidate and rung (8 + 4 + 2), each rung's kept α marked promoted
    assertThat(read(sp.resolve("selection.csv")).lines().count()).isEqualTo(1 + 8 + 4 + 2);

    // the cost: every rung-1 and rung-2 run continued from its previous rung's checkpoint (fetched from the store), so
    // Spark trained only the extra epochs, as many as the embedded runner (continuedEpochs, not plan.epochs), and
    // both then train the 2 final runs of 3 epochs
    assertThat(o.continued()).isEqualTo(4 + 2);
    assertThat(log.lines().filter(l -> l.contains(" select: trained on ")
        && l.contains("continued from the previous rung after epoch 1,"))).hasSize(4);
    assertThat(log.lines().filter(l -> l.contains(" select: trained on ")
        && l.contains("continued from the previous rung after epoch 2,"))).hasSize(2);
    long sparkEpochs = 8L * 1 + 4L * (2 - 1) + 2L * (3 - 2) + 2L * 3;
    assertThat(sparkEpochs).isEqualTo(2 * plan.continuedEpochs(4) + 2 * 3).isLessThan(2 * plan.epochs(4) + 2 * 3);
    assertThat(embeddedEpochs.get()).isEqualTo(sparkEpochs).isEqualTo(2 * 7 + 6);
    // once the sweep is done, the store keeps no continuation checkpoint and no run
    Path store = tmp.resolve("scratch").resolve("results");
    assertThat(named(store, "continue").stream().flatMap(d -> {
      try {
        return Files.list(d);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    })).isEmpty();
  }

  @Test
  void aResumedHalvingSweepSkipsTheRunsAlreadyFinishedAndARerunStartsNoJob(@TempDir Path tmp) throws Exception {
    Path sp = tmp.resolve("spark");
    Files.createDirectories(sp.resolve("runs"));
    // 3 of the 8 rung-0 runs and 1 of the 4 rung-1 runs finished already (here: the embedded runner's)
    List<SweepRun> rung0 = embeddedOutcome.runs().stream().filter(r -> r.config().epochs() == 1).toList();
    List<SweepRun> rung1 = embeddedOutcome.runs().stream()
        .filter(r -> r.phase().equals(SweepRun.SELECT) && r.config().epochs() == 2).toList();
    assertThat(rung0).hasSize(8);
    assertThat(rung1).hasSize(4);
    List<SweepRun> done = List.of(rung0.get(0), rung0.get(3), rung0.get(5), rung1.get(1));
    for (SweepRun r : done) {
      copyRunFolder(r.runId(), sp);
    }
    // a continue.bin the embedded runner could have left: no run needs it once its continuation has finished
    Files.writeString(sp.resolve("runs").resolve(rung0.get(0).runId()).resolve("continue.bin"), "stale");

    SparkSweep.Outcome o = SparkSweepTest.spark(sc, HALVING, sp, tmp.resolve("scratch"));
    assertThat(o.phases()).containsExactly(new SparkSweep.Phase("select rung 0", 8, 5),
        new SparkSweep.Phase("select rung 1", 4, 3), new SparkSweep.Phase("select rung 2", 2, 2),
        new SparkSweep.Phase("final", 2, 2));
    assertThat(o.trained()).isEqualTo(12);
    assertThat(o.skipped()).isEqualTo(4);
    assertSameAsEmbedded(sp);

    // a rerun of the finished sweep: every run skipped, no Spark job, the same files
    SparkSweep.Outcome again = SparkSweepTest.spark(sc, HALVING, sp, tmp.resolve("scratch"));
    assertThat(again.jobs()).isZero();
    assertThat(again.trained()).isZero();
    assertThat(again.planned()).isEqualTo(16);
    assertThat(again.phases()).containsExactly(new SparkSweep.Phase("select rung 0", 8, 0),
        new SparkSweep.Phase("final", 2, 0));
    assertSameAsEmbedded(sp);
  }

  static void copyRunFolder(String runId, Path to) throws Exception {
    Path from = embedded.resolve("runs").resolve(runId);
    Path dir = to.resolve("runs").resolve(runId);
    Files.createDirectories(dir);
    try (Stream<Path> s = Files.list(from)) {
      for (Path f : s.filter(Files::isRegularFile).toList()) {
        Files.copy(f, dir.resolve(f.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
      }
    }
  }
}
