package io.github.pathsgd.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.experiments.sweep.SweepRunner;
import io.github.pathsgd.experiments.sweep.SweepSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A smoke sweep on real Spark local mode against the embedded runner, with one BLAS thread per run in both. */
class SparkSweepTest {
  /** 8 runs of 3 epochs, one of them diverging. */
  static final String TINY = """
      name: tiny
      description: tiny
      figure: rescaling
      base: {dataset: mnist-sample, hidden: [8], per_class_train: 4, validation_size: 50, epochs: 3,
             unbalance_count: 4, batch_size: 10, seed: 3}
      grid:
        optimizer: [sgd, path-sgd]
        init: [balanced, unbalanced]
        lr: [0.05, 1.0e+30]
      scales:
        smoke: {description: s}
        quick: {description: q}
        paper: {description: p}
      """;

  /** A step-size selection: 4 select runs (2 groups x 2 alphas), then 2 final runs, as two Spark jobs. */
  static final String SELECT = """
      name: tinysel
      description: tiny selection
      figure: compare
      base: {dataset: mnist-sample, hidden: [8], per_class_train: 4, validation_size: 50, epochs: 3, batch_size: 10,
             seed: 3}
      grid:
        optimizer: [sgd, path-sgd]
      step_size: {alphas: [1, 2]}
      scales:
        smoke: {description: s}
        quick: {description: q}
        paper: {description: p}
      """;

  static JavaSparkContext local(String failOnce) {
    SparkConf c = new SparkConf().setAppName("pathsgd-test").setMaster(SparkMain.withRetries("local[2]", 4))
        .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
        .set("spark.driver.bindAddress", "127.0.0.1");
    if (failOnce != null) {
      c.set(SparkSweep.FAIL_ONCE, failOnce);
    }
    return new JavaSparkContext(c);
  }

  static void embedded(String yaml, Path out) {
    // jobs 2: one BLAS thread per run, as on Spark
    SweepRunner.Outcome o = new SweepRunner(SweepSpec.parse(yaml, "test"), "smoke", 1,
        SweepRunner.Options.of(out).withJobs(2)).run();
    assertThat(o.interrupted()).isFalse();
  }

  static SparkSweep.Outcome spark(JavaSparkContext sc, String yaml, Path out, Path scratch) {
    return new SparkSweep(SweepSpec.parse(yaml, "test"), "smoke", 1,
        new SparkSweep.Options(out, 1, null, scratch, System.out)).run(sc);
  }

  static String read(Path f) throws Exception {
    return Files.readString(f, StandardCharsets.UTF_8);
  }

  static void assertOneLinePerRun(Path out, int runs) throws Exception {
    List<String> lines = Files.readAllLines(out.resolve("runs.jsonl"));
    assertThat(lines).hasSize(runs);
    Set<String> ids = new HashSet<>();
    for (String l : lines) {
      ids.add(l.replaceAll(".*\"run_id\":\"([0-9a-f]{12})\".*", "$1"));
    }
    assertThat(ids).hasSize(runs);
  }

  @Test
  void localModeWritesTheEmbeddedRunnersMetricsByteForByteAndResumes(@TempDir Path tmp) throws Exception {
    Path emb = tmp.resolve("embedded");
    Path sp = tmp.resolve("spark");
    embedded(TINY, emb);
    try (JavaSparkContext sc = local(null)) {
      SparkSweep.Outcome o = spark(sc, TINY, sp, tmp.resolve("scratch"));
      assertThat(o.planned()).isEqualTo(8);
      assertThat(o.trained()).isEqualTo(8);
      assertThat(o.retried()).isZero();
      assertThat(o.phases()).containsExactly(new SparkSweep.Phase("main", 8, 8));
      assertThat(read(sp.resolve("metrics.csv"))).isEqualTo(read(emb.resolve("metrics.csv")));
      assertThat(read(sp.resolve("sweep.json"))).isEqualTo(read(emb.resolve("sweep.json")));
      assertOneLinePerRun(sp, 8);
      assertThat(read(sp.resolve("runs.jsonl"))).contains("\"status\":\"diverged\"");
      String before = read(sp.resolve("metrics.csv"));
      // a rerun skips every finished run: no Spark task, same files
      SparkSweep.Outcome again = spark(sc, TINY, sp, tmp.resolve("scratch"));
      assertThat(again.trained()).isZero();
      assertThat(again.skipped()).isEqualTo(8);
      assertThat(again.jobs()).isZero();
      assertThat(read(sp.resolve("metrics.csv"))).isEqualTo(before);
    }
  }

  @Test
  void aTaskKilledOnceIsRetriedAndTheSelectionSweepEqualsTheEmbeddedOne(@TempDir Path tmp) throws Exception {
    Path emb = tmp.resolve("embedded");
    Path sp = tmp.resolve("spark");
    embedded(SELECT, emb);
    // the first attempt of run index 1's task throws after its checkpoint of epoch 1; Spark retries it, and the retry
    // resumes from that checkpoint in the scratch folder
    try (JavaSparkContext sc = local("1:1")) {
      SparkSweep.Outcome o = spark(sc, SELECT, sp, tmp.resolve("scratch"));
      assertThat(o.planned()).isEqualTo(6);
      assertThat(o.trained()).isEqualTo(6);
      assertThat(o.retried()).isEqualTo(1);
      assertThat(o.selectionPending()).isFalse();
      // two Spark jobs: the select runs, then (decided by the driver) the final runs
      assertThat(o.phases()).containsExactly(new SparkSweep.Phase("select", 4, 4), new SparkSweep.Phase("final", 2, 2));
      assertThat(o.jobs()).isEqualTo(2);
    }
    for (String f : List.of("metrics.csv", "selection.csv", "selection.json", "sweep.json")) {
      assertThat(read(sp.resolve(f))).as(f).isEqualTo(read(emb.resolve(f)));
    }
    assertOneLinePerRun(sp, 6);
    assertThat(Files.readAllLines(sp.resolve("timings.csv"))).hasSameSizeAs(
        Files.readAllLines(emb.resolve("timings.csv")));
  }

  @Test
  void plainLocalMastersGetRetries() {
    assertThat(SparkMain.withRetries("local[2]", 4)).isEqualTo("local[2,4]");
    assertThat(SparkMain.withRetries("local[*]", 3)).isEqualTo("local[*,3]");
    assertThat(SparkMain.withRetries("local", 4)).isEqualTo("local[1,4]");
    assertThat(SparkMain.withRetries("local[2,8]", 4)).isEqualTo("local[2,8]");
    assertThat(SparkMain.withRetries("spark://h:7077", 4)).isEqualTo("spark://h:7077");
  }
}
