package io.github.pathsgd.spark;

import static io.github.pathsgd.spark.SparkSweepTest.read;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.sweep.SweepRunner;
import io.github.pathsgd.experiments.sweep.SweepSpec;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sweep with a noise floor on real Spark local mode against the embedded runner: the select and final runs as Spark
 * jobs, then the noise runs (the first sgd final run again with 1 and with 2 pinned BLAS threads) trained by the driver
 * itself, one at a time, with the embedded runner's files.
 */
class SparkNoiseTest {
  /** 4 select runs (2 groups × 2 α), 2 final runs, then 2 noise runs of the sgd final run. */
  static final String NOISY = SparkSweepTest.SELECT.replace("name: tinysel", "name: tinynoise")
      + "noise_floor: {where: {optimizer: sgd}, threads: [1, 2]}\n";

  /** Wall-clock fields, left out where files are compared. */
  static final List<String> CLOCK = List.of("start_time", "end_time", "train_seconds", "norms_seconds");

  static JsonNode withoutClock(JsonNode n) {
    if (n instanceof ObjectNode o) {
      CLOCK.forEach(o::remove);
      for (Iterator<JsonNode> it = o.elements(); it.hasNext(); ) {
        withoutClock(it.next());
      }
    } else if (n.isArray()) {
      n.forEach(SparkNoiseTest::withoutClock);
    }
    return n;
  }

  /** A run's metrics.csv without its wall-clock rows (split train, metric seconds), as the combined one has it. */
  static List<String> withoutSeconds(Path f) throws Exception {
    return Files.readAllLines(f).stream().filter(l -> !l.matches("[0-9a-f]{12},\\d+,train,seconds,.*")).toList();
  }

  static JsonNode json(Path f) throws Exception {
    return Configs.json().readTree(Files.readAllBytes(f));
  }

  /** runs.jsonl without its wall-clock fields, a node per line. */
  static List<JsonNode> runsJsonl(Path out) throws Exception {
    List<JsonNode> l = new ArrayList<>();
    for (String line : Files.readAllLines(out.resolve("runs.jsonl"))) {
      l.add(withoutClock(Configs.json().readTree(line)));
    }
    return l;
  }

  /** The noise runs of runs.jsonl: run id → pinned thread count. */
  static Map<String, Integer> noiseRuns(Path out) throws Exception {
    Map<String, Integer> m = new TreeMap<>();
    for (JsonNode n : runsJsonl(out)) {
      if (n.path("phase").asText().equals(SweepRun.NOISE)) {
        m.put(n.path("run_id").asText(), n.path("config").path("threads").asInt());
      }
    }
    return m;
  }

  static void assertSameAsEmbedded(Path sp, Path emb) throws Exception {
    assertSameAsEmbedded(sp, emb, List.of("selection.csv", "selection.json"), 8);
  }

  /**
   * The combined files byte for byte, runs.jsonl and the noise runs' config.json and summary.json but for their
   * wall-clock fields, the noise runs' metrics.csv but for its seconds rows, their networks bit for bit; and the pinned
   * thread counts, 1 and 2, in their configs and in force while they trained.
   */
  static void assertSameAsEmbedded(Path sp, Path emb, List<String> more, int runs) throws Exception {
    List<String> same = new ArrayList<>(List.of("metrics.csv", "sweep.json"));
    same.addAll(more);
    for (String f : same) {
      assertThat(read(sp.resolve(f))).as(f).isEqualTo(read(emb.resolve(f)));
    }
    assertThat(runsJsonl(sp)).hasSize(runs).isEqualTo(runsJsonl(emb));
    Map<String, Integer> noise = noiseRuns(sp);
    assertThat(noise).isEqualTo(noiseRuns(emb));
    assertThat(noise.values()).containsExactlyInAnyOrder(1, 2);
    for (Map.Entry<String, Integer> e : noise.entrySet()) {
      Path s = sp.resolve("runs").resolve(e.getKey());
      Path m = emb.resolve("runs").resolve(e.getKey());
      assertThat(Arrays.equals(Files.readAllBytes(s.resolve("model.safetensors")),
          Files.readAllBytes(m.resolve("model.safetensors")))).as(e.getKey() + "/model.safetensors, bit for bit")
          .isTrue();
      assertThat(withoutSeconds(s.resolve("metrics.csv"))).as(e.getKey() + "/metrics.csv")
          .isEqualTo(withoutSeconds(m.resolve("metrics.csv")));
      for (String f : List.of("config.json", "summary.json")) {
        assertThat(withoutClock(json(s.resolve(f)))).as(e.getKey() + "/" + f)
            .isEqualTo(withoutClock(json(m.resolve(f))));
      }
      // the pinned count: in the config (hashed into the run id) and in force while it trained (provenance)
      JsonNode c = json(s.resolve("config.json"));
      assertThat(c.path("config").path("pin_threads").asBoolean()).isTrue();
      assertThat(c.path("config").path("threads").asInt()).isEqualTo(e.getValue());
      assertThat(c.path("provenance").path("blas_threads").asInt()).isEqualTo(e.getValue());
      assertThat(s.resolve("checkpoint.bin")).doesNotExist();
    }
  }

  static void deleteTree(Path dir) throws Exception {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** 2 main runs, then 2 noise runs of the path-sgd run (2 threads, then 1). */
  static final String MAIN = """
      name: tinymainnoise
      description: tiny main runs and a noise floor
      figure: rescaling
      base: {dataset: mnist-sample, hidden: [8], per_class_train: 4, validation_size: 50, epochs: 3, batch_size: 10,
             seed: 3}
      grid:
        optimizer: [sgd, path-sgd]
      noise_floor: {where: {optimizer: path-sgd}, threads: [2, 1]}
      scales:
        smoke: {description: s}
        quick: {description: q}
        paper: {description: p}
      """;

  static JavaSparkContext sc;

  @BeforeAll
  static void spark() {
    sc = SparkSweepTest.local(null);
  }

  @AfterAll
  static void stopSpark() {
    if (sc != null) {
      sc.close();
    }
  }

  @Test
  void withoutASelectionTheNoiseRunsFollowTheMainRunsAndTakeTheDataDir(@TempDir Path tmp) throws Exception {
    Path emb = tmp.resolve("embedded");
    Path sp = tmp.resolve("spark");
    Path data = tmp.resolve("data"); // mnist-sample is bundled: the folder is only recorded
    SweepRunner.Outcome e = new SweepRunner(SweepSpec.parse(MAIN, "test"), "smoke", 1,
        SweepRunner.Options.of(emb).withJobs(2).withDataDir(data)).run();
    assertThat(e.planned()).isEqualTo(4);
    SparkSweep.Outcome o = new SparkSweep(SweepSpec.parse(MAIN, "test"), "smoke", 1,
        new SparkSweep.Options(sp, 1, data, tmp.resolve("scratch"), System.out)).run(sc);
    assertThat(o.phases()).containsExactly(new SparkSweep.Phase("main", 2, 2), new SparkSweep.Phase("noise", 2, 0, 2));
    assertThat(o.trained()).isEqualTo(4);
    assertSameAsEmbedded(sp, emb, List.of(), 4);
    for (String id : noiseRuns(sp).keySet()) {
      assertThat(json(sp.resolve("runs").resolve(id).resolve("config.json")).path("config").path("data_dir").asText())
          .isEqualTo(data.toString());
    }
  }

  @Test
  void theDriverTrainsTheNoiseRunsAfterTheLastJobWithTheEmbeddedRunnersFilesAndAResumeSkipsThem(@TempDir Path tmp)
      throws Exception {
    Path emb = tmp.resolve("embedded");
    Path sp = tmp.resolve("spark");
    Path scratch = tmp.resolve("scratch");
    SparkSweepTest.embedded(NOISY, emb);
    assertThat(SweepSpec.parse(NOISY, "test").noiseFloor("smoke")).isNotNull();
    SparkSweep.Outcome o = SparkSweepTest.spark(sc, NOISY, sp, scratch);
    // two Spark jobs, then the noise phase: no Spark task, its 2 runs trained by the driver
    assertThat(o.phases()).containsExactly(new SparkSweep.Phase("select", 4, 4),
        new SparkSweep.Phase("final", 2, 2), new SparkSweep.Phase("noise", 2, 0, 2));
    assertThat(o.jobs()).isEqualTo(2);
    assertThat(o.onDriver()).isEqualTo(2);
    assertThat(o.planned()).isEqualTo(8);
    assertThat(o.trained()).isEqualTo(8);
    assertThat(o.selectionPending()).isFalse();
    assertThat(o.damaged()).isEmpty();
    // the driver set the thread count back to the one before its noise runs (the last task's, 1), not their last (2)
    assertThat(Blas.threads()).isEqualTo(1);
    assertSameAsEmbedded(sp, emb);
    try (Stream<Path> s = Files.list(scratch)) { // the result store SCRATCH/results, emptied as runs are installed
      assertThat(s.toList()).as("scratch run folders, removed once installed").containsExactly(
          scratch.resolve("results"));
    }
    try (Stream<Path> s = Files.list(scratch.resolve("results"))) {
      assertThat(s.toList()).as("result store entries, removed once installed").isEmpty();
    }

    // a resumed sweep: the 2-thread noise run lost; the driver trains it alone, no Spark job
    String twoThreads = noiseRuns(sp).entrySet().stream().filter(e -> e.getValue() == 2).findFirst().orElseThrow()
        .getKey();
    deleteTree(sp.resolve("runs").resolve(twoThreads));
    SparkSweep.Outcome resumed = SparkSweepTest.spark(sc, NOISY, sp, scratch);
    assertThat(resumed.phases()).containsExactly(new SparkSweep.Phase("select", 4, 0),
        new SparkSweep.Phase("final", 2, 0), new SparkSweep.Phase("noise", 2, 0, 1));
    assertThat(resumed.jobs()).isZero();
    assertThat(resumed.trained()).isEqualTo(1);
    assertThat(resumed.skipped()).isEqualTo(7);
    assertSameAsEmbedded(sp, emb);

    // a rerun of the finished sweep trains nothing
    String before = read(sp.resolve("metrics.csv"));
    SparkSweep.Outcome again = SparkSweepTest.spark(sc, NOISY, sp, scratch);
    assertThat(again.trained()).isZero();
    assertThat(again.onDriver()).isZero();
    assertThat(again.jobs()).isZero();
    assertThat(again.skipped()).isEqualTo(8);
    assertThat(again.phases()).last().isEqualTo(new SparkSweep.Phase("noise", 2, 0, 0));
    assertThat(read(sp.resolve("metrics.csv"))).isEqualTo(before);
  }
}
