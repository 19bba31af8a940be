package io.github.pathsgd.experiments.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sweeps on a tiny mnist-sample problem (40 training images, 784-8-10, 2-3 epochs): seconds. */
class SweepRunnerTest {
  static final String TINY = """
      name: tiny
      description: tiny
      figure: rescaling
      base: {dataset: mnist-sample, hidden: [8], per_class_train: 4, validation_size: 50, epochs: 3, threads: 1,
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

  static SweepRunner runner(Path out, SweepRunner.Options o) {
    return new SweepRunner(SweepSpec.parse(TINY, "tiny"), "smoke", 1, o);
  }

  @Test
  void interruptedAndResumedSweepEqualsUninterruptedAndRecordsDivergence(@TempDir Path tmp) throws Exception {
    Path a = tmp.resolve("a");
    SweepRunner.Outcome full = runner(a, SweepRunner.Options.of(a)).run();
    assertThat(full.planned()).isEqualTo(8);
    assertThat(full.trained()).isEqualTo(8);
    assertThat(full.diverged()).isGreaterThanOrEqualTo(2);
    List<String> jsonl = Files.readAllLines(a.resolve("runs.jsonl"));
    assertThat(jsonl).hasSize(8);
    assertThat(jsonl.get(1)).contains("\"status\":\"diverged\"").contains("\"optimizer\":\"sgd\"")
        .contains("\"lr\":1.0E30").contains("\"git_commit\"").contains("\"pathsgd_version\"");
    assertThat(jsonl.get(0)).contains("\"status\":\"completed\"").contains("\"seed\":3").contains("\"hidden\":[8]")
        .contains("\"init\":\"balanced\"").contains("\"dropout\":0.0").contains("\"dataset\":\"mnist-sample\"");
    String metrics = Files.readString(a.resolve("metrics.csv"));
    assertThat(metrics).startsWith("run_id,epoch,split,metric,value\n").doesNotContain(",seconds,");
    assertThat(Files.readString(a.resolve("timings.csv"))).startsWith("run_id,epoch,seconds\n");
    // every run folder holds its final network (written before summary.json); its norms are the last model rows
    List<SweepRun> planA = runner(a, SweepRunner.Options.of(a)).plan();
    for (SweepRun r : planA) {
      assertThat(a.resolve("runs").resolve(r.runId()).resolve("model.safetensors")).exists();
    }
    io.github.pathsgd.core.nn.LayerNet first = io.github.pathsgd.model.SafeTensors.read(a.resolve("runs")
        .resolve(planA.get(0).runId()).resolve("model.safetensors")).network();
    assertThat(metrics).contains(planA.get(0).runId() + ",3,model,path_norm_2,"
        + io.github.pathsgd.experiments.rundir.MetricsCsv.format(io.github.pathsgd.core.geometry.PathNorms.phi(first,
            2, true)) + "\n");

    // b: killed in the middle of the 5th run (after its epoch-1 checkpoint), then resumed
    Path b = tmp.resolve("b");
    SweepRunner.Outcome cut = runner(b, SweepRunner.Options.of(b).withListeners(SweepHooks.interrupt(4, 1))).run();
    assertThat(cut.interrupted()).isTrue();
    assertThat(cut.trained()).isEqualTo(4);
    List<SweepRun> plan = runner(b, SweepRunner.Options.of(b)).plan();
    Path victim = b.resolve("runs").resolve(plan.get(4).runId());
    assertThat(victim.resolve("checkpoint.bin")).exists();
    assertThat(victim.resolve("summary.json")).doesNotExist();
    assertThat(Files.readAllLines(b.resolve("runs.jsonl"))).hasSize(4);
    long before = Files.getLastModifiedTime(b.resolve("runs").resolve(plan.get(0).runId()).resolve("summary.json"))
        .toMillis();
    SweepRunner.Outcome rest = runner(b, SweepRunner.Options.of(b)).run();
    assertThat(rest.skipped()).isEqualTo(4);
    assertThat(rest.trained()).isEqualTo(4);
    assertThat(Files.getLastModifiedTime(b.resolve("runs").resolve(plan.get(0).runId()).resolve("summary.json"))
        .toMillis()).isEqualTo(before);
    assertThat(Files.readAllBytes(b.resolve("metrics.csv"))).isEqualTo(Files.readAllBytes(a.resolve("metrics.csv")));
    assertThat(victim.resolve("checkpoint.bin")).doesNotExist();
  }

  @Test
  void shardsAndParallelJobsFillTheSameFolder(@TempDir Path tmp) throws Exception {
    Path a = tmp.resolve("a");
    runner(a, SweepRunner.Options.of(a)).run();
    Path c = tmp.resolve("c");
    SweepRunner.Outcome s0 = runner(c, SweepRunner.Options.of(c).withShard(0, 2)).run();
    assertThat(s0.trained()).isEqualTo(4);
    assertThat(Files.readAllLines(c.resolve("runs.jsonl"))).hasSize(4);
    SweepRunner.Outcome s1 = runner(c, SweepRunner.Options.of(c).withShard(1, 2).withJobs(2)).run();
    assertThat(s1.trained()).isEqualTo(4);
    assertThat(Files.readAllLines(c.resolve("runs.jsonl"))).hasSize(8);
    assertThat(Files.readString(c.resolve("metrics.csv"))).isEqualTo(Files.readString(a.resolve("metrics.csv")));
  }
}
