package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.experiments.sweep.SweepDriver;
import io.github.pathsgd.experiments.sweep.SweepPlan;
import io.github.pathsgd.experiments.sweep.SweepRunner;
import io.github.pathsgd.experiments.sweep.SweepSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pathsgd experiments merge}: shard folders into one, as the unsharded sweep writes it; other sweeps refused. */
class ExperimentsMergeCommandTest {
  static final String TINY = """
      name: tiny
      description: tiny
      figure: rescaling
      base: {dataset: mnist-sample, hidden: [8], per_class_train: 4, validation_size: 50, epochs: 2, threads: 1,
             batch_size: 10, seed: 3}
      grid:
        optimizer: [sgd, path-sgd]
        lr: [0.05, 0.1]
      scales:
        smoke: {description: s}
        quick: {description: q}
        paper: {description: p}
      """;

  static void sweep(String yaml, Path out, int k, int n, int seeds) {
    new SweepRunner(SweepSpec.parse(yaml, "tiny"), "smoke", seeds, SweepRunner.Options.of(out).withShard(k, n)).run();
  }

  /** The run ids of a file's lines, in order (the first field of timings.csv, run_id of runs.jsonl). */
  static List<String> ids(List<String> lines) {
    List<String> out = new ArrayList<>();
    for (String l : lines) {
      out.add(l.startsWith("{") ? l.replaceAll(".*\"run_id\":\"([0-9a-f]{12})\".*", "$1") : l.split(",")[0]);
    }
    return out;
  }

  static String read(Path f) throws Exception {
    return Files.readString(f, StandardCharsets.UTF_8);
  }

  @Test
  void twoShardFoldersMergeIntoTheUnshardedSweepAndOtherSweepsAreRefused(@TempDir Path tmp) throws Exception {
    Path spec = tmp.resolve("tiny.yaml");
    Files.writeString(spec, TINY);
    Path full = tmp.resolve("full");
    Path a = tmp.resolve("a");
    Path b = tmp.resolve("b");
    sweep(TINY, full, 0, 1, 1);
    sweep(TINY, a, 0, 2, 1);
    sweep(TINY, b, 1, 2, 1);
    assertThat(Files.readAllLines(a.resolve("runs.jsonl"))).hasSize(2);

    Path merged = tmp.resolve("merged");
    CliTest.Result r = CliTest.run("experiments", "merge", "--spec", spec.toString(), merged.toString(), a.toString(),
        b.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("4 of 4 planned runs finished");
    for (String f : List.of("metrics.csv", "sweep.json")) {
      assertThat(read(merged.resolve(f))).as(f).isEqualTo(read(full.resolve(f)));
    }
    // the wall-clock files: the shards' own lines, in the unsharded sweep's order
    for (String f : List.of("timings.csv", "runs.jsonl")) {
      List<String> shards = new ArrayList<>(Files.readAllLines(a.resolve(f)));
      shards.addAll(Files.readAllLines(b.resolve(f)));
      List<String> m = Files.readAllLines(merged.resolve(f));
      assertThat(new HashSet<>(m)).as(f).isEqualTo(new HashSet<>(shards));
      assertThat(ids(m)).as(f).isEqualTo(ids(Files.readAllLines(full.resolve(f))));
    }
    // merging again changes nothing
    CliTest.Result again = CliTest.run("experiments", "merge", "--spec", spec.toString(), merged.toString(),
        a.toString(), b.toString());
    assertThat(again.code()).isZero();
    assertThat(again.out()).contains("0 run folders copied");
    assertThat(read(merged.resolve("metrics.csv"))).isEqualTo(read(full.resolve("metrics.csv")));

    // another seed count: another sweep, refused by name
    Path other = tmp.resolve("other");
    sweep(TINY, other, 0, 2, 2);
    CliTest.Result no = CliTest.run("experiments", "merge", "--spec", spec.toString(), tmp.resolve("m2").toString(),
        a.toString(), other.toString());
    assertThat(no.code()).isNotZero();
    assertThat(no.err()).contains(other + "/sweep.json: seeds 2").contains("refusing to merge");
    assertThat(Files.exists(tmp.resolve("m2").resolve("metrics.csv"))).isFalse();

    // a run folder of another config in a shard folder: refused, naming the folder
    Path stray = b.resolve("runs").resolve("0123456789ab");
    Files.createDirectories(stray);
    CliTest.Result bad = CliTest.run("experiments", "merge", "--spec", spec.toString(), tmp.resolve("m3").toString(),
        a.toString(), b.toString());
    assertThat(bad.code()).isNotZero();
    assertThat(bad.err()).contains(stray + ": not a run of tiny --scale smoke --seeds 1");
  }

  @Test
  void aSuccessiveHalvingSweepIsRefusedByNameBeforeAnythingIsWritten(@TempDir Path tmp) throws Exception {
    String halving = TINY.replace("  lr: [0.05, 0.1]\n", "").replace("scales:", "step_size: {alphas: [1, 2], rule: "
        + "halving, budgets: [1, 2], keep: 0.5}\nscales:");
    assertThat(refusedMerge(tmp, halving))
        .contains("step_size.rule: sweep tiny (scale smoke) selects the step size by successive halving")
        .contains("--set scales.smoke.step_size.rule=exhaustive");
  }

  @Test
  void aNoiseFloorIsRefusedByNameBeforeAnythingIsWritten(@TempDir Path tmp) throws Exception {
    String noisy = TINY.replace("scales:", "noise_floor: {where: {optimizer: sgd}, threads: [1, 2]}\nscales:");
    assertThat(refusedMerge(tmp, noisy)).contains("noise_floor: sweep tiny (scale smoke) has a noise-floor phase")
        .contains("'pathsgd experiments merge' does not plan");
  }

  /** Merges one prepared shard of the sweep {@code specText}; asserts the refusal wrote nothing; its error text. */
  private static String refusedMerge(Path tmp, String specText) throws Exception {
    Path spec = tmp.resolve("tiny.yaml");
    Files.writeString(spec, specText);
    Path shard = tmp.resolve("a");
    SweepDriver.prepare(shard, new SweepPlan(SweepSpec.parse(specText, "tiny"), "smoke", 1, null, 0)); // its sweep.json
    Path merged = tmp.resolve("merged");
    CliTest.Result r = CliTest.run("experiments", "merge", "--spec", spec.toString(), merged.toString(),
        shard.toString());
    assertThat(r.code()).isNotZero();
    assertThat(merged).doesNotExist();
    return r.err();
  }
}
