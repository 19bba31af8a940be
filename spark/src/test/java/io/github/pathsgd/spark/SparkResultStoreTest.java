package io.github.pathsgd.spark;

import static io.github.pathsgd.spark.SparkSweepTest.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.experiments.sweep.SweepPlan;
import io.github.pathsgd.experiments.sweep.SweepSpec;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import io.github.pathsgd.experiments.sweep.SweepTasks;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Results through the result store, not the driver's heap: a phase whose models exceed spark.driver.maxResultSize
 * finishes; a run is installed as its task ends, so a failing run leaves the others installed; a result found in the
 * store or in a scratch folder is installed only when its record and checksums match the planned run.
 */
class SparkResultStoreTest {
  /** 4 runs of 2x512 networks on 784 inputs: model.safetensors of 1.6 MB each, over a 1 MiB maxResultSize. */
  static final String WIDE = """
      name: wide
      description: wide
      figure: rescaling
      base: {dataset: mnist-sample, hidden: [512], per_class_train: 2, validation_size: 20, epochs: 1,
             batch_size: 10, seed: 3}
      grid:
        optimizer: [sgd, path-sgd]
        lr: [0.05, 0.1]
      scales:
        smoke: {description: s}
        quick: {description: q}
        paper: {description: p}
      """;

  static JavaSparkContext local(String key, String value) {
    SparkConf c = new SparkConf().setAppName("pathsgd-test").setMaster(SparkMain.withRetries("local[2]", 2))
        .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
        .set("spark.driver.bindAddress", "127.0.0.1").set(key, value);
    return new JavaSparkContext(c);
  }

  static List<Path> list(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().toList();
    }
  }

  @Test
  void aPhaseWhoseModelsExceedTheDriversMaxResultSizeFinishesLikeTheEmbeddedRunner(@TempDir Path tmp)
      throws Exception {
    Path emb = tmp.resolve("embedded");
    Path sp = tmp.resolve("spark");
    Path scratch = tmp.resolve("scratch");
    SparkSweepTest.embedded(WIDE, emb);
    try (JavaSparkContext sc = local("spark.driver.maxResultSize", "1m")) {
      SparkSweep.Outcome o = SparkSweepTest.spark(sc, WIDE, sp, scratch);
      assertThat(o.trained()).isEqualTo(4);
      assertThat(o.phases()).containsExactly(new SparkSweep.Phase("main", 4, 4));
    }
    for (String f : List.of("metrics.csv", "sweep.json")) {
      assertThat(read(sp.resolve(f))).as(f).isEqualTo(read(emb.resolve(f)));
    }
    long total = 0;
    for (Path run : list(sp.resolve("runs"))) {
      long model = Files.size(run.resolve(SweepTasks.MODEL));
      assertThat(model).isGreaterThan(1_600_000L);
      assertThat(Files.readAllBytes(run.resolve(SweepTasks.MODEL)))
          .isEqualTo(Files.readAllBytes(emb.resolve("runs").resolve(run.getFileName()).resolve(SweepTasks.MODEL)));
      total += model;
    }
    assertThat(total).isGreaterThan(4L << 20); // what one collect() used to carry, 4x the limit
    assertThat(list(scratch)).containsExactly(scratch.resolve("results"));
    assertThat(list(scratch.resolve("results"))).as("store entries removed once installed").isEmpty();
  }

  @Test
  void aRunFailingEveryAttemptLeavesTheRunsFinishedBeforeInstalled(@TempDir Path tmp) throws Exception {
    Path sp = tmp.resolve("spark");
    try (JavaSparkContext sc = local(SparkSweep.FAIL_ALWAYS, "7")) {
      assertThatThrownBy(() -> SparkSweepTest.spark(sc, SparkSweepTest.TINY, sp, tmp.resolve("scratch")))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("phase main: the Spark job failed after")
          .hasMessageContaining("runs were installed (they stay installed; rerun to train the others)");
    }
    List<SweepRun> plan = new SweepPlan(SweepSpec.parse(SparkSweepTest.TINY, "test"), "smoke", 1, null, 1).first();
    long settled = plan.stream().filter(r -> SweepTasks.settled(sp, r)).count();
    // each of the other runs is installed as its task ends; the job fails once run 7 (the last task to start, after
    // six others ended) fails its second attempt; the one collect() of before installed none
    assertThat(settled).isBetween(1L, 7L);
    assertThat(SweepTasks.settled(sp, plan.get(7))).isFalse();
    // a rerun trains only the others
    try (JavaSparkContext sc = SparkSweepTest.local(null)) {
      SparkSweep.Outcome o = SparkSweepTest.spark(sc, SparkSweepTest.TINY, sp, tmp.resolve("scratch"));
      assertThat(o.trained() + o.fromStore()).isEqualTo(8 - (int) settled);
      assertThat(o.skipped()).isEqualTo((int) settled);
    }
    Path emb = tmp.resolve("embedded");
    SparkSweepTest.embedded(SparkSweepTest.TINY, emb);
    assertThat(read(sp.resolve("metrics.csv"))).isEqualTo(read(emb.resolve("metrics.csv")));
  }

  @Test
  void storedAndScratchResultsAreInstalledOnlyWhenTheyMatchThePlannedRun(@TempDir Path tmp) throws Exception {
    Path emb = tmp.resolve("embedded");
    Path sp = tmp.resolve("spark");
    Path scratch = tmp.resolve("scratch");
    SparkSweepTest.embedded(SparkSweepTest.TINY, emb);
    List<SweepRun> plan = new SweepPlan(SweepSpec.parse(SparkSweepTest.TINY, "test"), "smoke", 1, null, 1).first();
    String metrics = read(emb.resolve("metrics.csv"));
    try (JavaSparkContext sc = SparkSweepTest.local(null)) {
      ResultStore store = ResultStore.of(scratch.resolve("results").toUri().toString(), sc.getConf());
      // runs 0 and 1: committed intact by an earlier driver's tasks
      for (int i : new int[] {0, 1, 2, 3}) {
        Path dir = emb.resolve("runs").resolve(plan.get(i).runId());
        store.commit(plan.get(i), dir, SweepTasks.resultFiles(dir).keySet(), "old-" + i, "elsewhere", 0, 1.0, 0);
      }
      // run 2: one value of its metrics.csv edited in the store after it was committed
      Path m2 = Path.of(store.entry(plan.get(2).runId()).toUri()).resolve("attempt-old-2").resolve("metrics.csv");
      String edited = Files.readString(m2).replaceFirst("(,train,loss,[0-9.]+)", "$1" + "1");
      assertThat(edited).isNotEqualTo(Files.readString(m2));
      Files.writeString(m2, edited);
      Files.deleteIfExists(m2.resolveSibling(".metrics.csv.crc")); // Hadoop's local checksum file: as a hand edit
      // run 3: its record's config hash is another config's
      Path rec3 = Path.of(store.entry(plan.get(3).runId()).toUri()).resolve(ResultStore.RECORD);
      Files.writeString(rec3, Files.readString(rec3).replaceFirst("\"configHash\":\"[0-9a-f]", "\"configHash\":\"x"));
      Files.deleteIfExists(rec3.resolveSibling("." + ResultStore.RECORD + ".crc"));
      // run 4: a finished leftover in the scratch folder (no spark.pathsgd.scratch run cleaned it), metrics edited
      Path left = scratch.resolve(plan.get(4).runId());
      copyTree(emb.resolve("runs").resolve(plan.get(4).runId()), left);
      Files.writeString(left.resolve("metrics.csv"), Files.readString(left.resolve("metrics.csv"))
          .replaceFirst("(,train,loss,[0-9.]+)", "$1" + "1"));

      SparkSweep.Outcome o = SparkSweepTest.spark(sc, SparkSweepTest.TINY, sp, scratch);
      assertThat(o.fromStore()).isEqualTo(2); // runs 0 and 1, without a task
      assertThat(o.trained()).isEqualTo(6); // 2 and 3 refused, 4 not taken from scratch: trained again
      assertThat(o.phases()).containsExactly(new SparkSweep.Phase("main", 8, 6));
    }
    assertThat(read(sp.resolve("metrics.csv"))).isEqualTo(metrics); // no edited value came through
    assertThat(withoutSeconds(sp.resolve("runs").resolve(plan.get(2).runId()).resolve("metrics.csv")))
        .isEqualTo(withoutSeconds(emb.resolve("runs").resolve(plan.get(2).runId()).resolve("metrics.csv")));
    assertThat(withoutSeconds(sp.resolve("runs").resolve(plan.get(4).runId()).resolve("metrics.csv")))
        .isEqualTo(withoutSeconds(emb.resolve("runs").resolve(plan.get(4).runId()).resolve("metrics.csv")));
    assertThat(list(scratch)).containsExactly(scratch.resolve("results"));
    assertThat(list(scratch.resolve("results"))).as("the driver removes what it installed or refused").isEmpty();
  }

  /** A run's metrics.csv without its timing rows (the wall-clock seconds of each epoch differ between runs). */
  static List<String> withoutSeconds(Path f) throws Exception {
    return Files.readAllLines(f).stream().filter(l -> !l.contains(",seconds,")).toList();
  }

  static void copyTree(Path from, Path to) throws Exception {
    Files.createDirectories(to);
    for (Path p : list(from)) {
      if (Files.isRegularFile(p)) {
        Files.write(to.resolve(p.getFileName().toString()), Files.readAllBytes(p));
      }
    }
    assertThat(new String(Files.readAllBytes(to.resolve("summary.json")), StandardCharsets.UTF_8)).contains("run_id");
  }
}
