package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The progress bar's line: samples/s, the run's and the sweep's ETA, the batch-mean loss, at most 80 columns. */
class ProgressTest {
  @Test
  void aRunsLineAtAGivenState() {
    var s = new Progress.State(null, 3, 10, 300, 600, 50, 100, 125, Double.NaN, 0.123456);
    String l = Progress.render(s, 80);
    assertThat(l).isEqualTo("ep 3/10 [=========        ]  50% 5.00k samples/s ETA 2:05 batch-mean loss 0.1235");
    assertThat(l).hasSize(80);
  }

  @Test
  void aSweepsLineShowsTheSweepsEtaAndFits80Columns() {
    var s = new Progress.State(new Progress.Sweep(3, 12), 3, 10, 10, 600, 123.4, 100, 3723, 45296, 2.5);
    String l = Progress.render(s, 80);
    // the bar and the percentage give way to what a sweep needs
    assertThat(l).isEqualTo("[3/12] ep 3/10 12.3k samples/s ETA 1:02:03 sweep 12:34:56 batch-mean loss 2.5000");
    assertThat(l).hasSize(80);
    var shorter = new Progress.State(new Progress.Sweep(3, 12), 3, 10, 300, 600, 123.4, 100, 83, 296, 2.5);
    assertThat(Progress.render(shorter, 80)).isEqualTo("[3/12] ep 3/10  50% 12.3k samples/s ETA 1:23 sweep 4:56 "
        + "batch-mean loss 2.5000");
  }

  @Test
  void extremeValuesStillFit80ColumnsAndUnknownsAreMarked() {
    var s = new Progress.State(new Progress.Sweep(1234, 5678), 1000, 10000, 59999, 60000, 9e9, 50000, 9e12, 9e13,
        -12345.678);
    assertThat(Progress.render(s, 80).length()).isLessThanOrEqualTo(80);
    var u = new Progress.State(null, 1, 5, 1, 600, Double.NaN, 0, Double.NaN, Double.NaN, Double.NaN);
    assertThat(Progress.render(u, 80)).startsWith("ep 1/5 [").endsWith("   0% - steps/s ETA --:-- batch-mean loss -")
        .hasSize(80);
    assertThat(Progress.si(950)).isEqualTo("950");
    assertThat(Progress.si(1234)).isEqualTo("1.23k");
    assertThat(Progress.si(1.2e6)).isEqualTo("1.20M");
    assertThat(Progress.duration(59.6)).isEqualTo("1:00");
  }

  @Test
  void theStateFollowsTheStepsRateEtaAndRunningMeanOfTheEpochsBatchLosses() {
    AtomicLong now = new AtomicLong(0);
    Progress p = new Progress(new PrintStream(new ByteArrayOutputStream()), "r", false, 20, new Progress.Sweep(2, 4),
        now::get);
    p.onStart(1, 2, 10);
    p.update(1, 1, 1.0);
    now.set(2_000_000_000L); // 4 more steps in 2 s: 2 steps/s, 40 samples/s
    p.update(1, 2, 2.0);
    p.update(1, 3, 3.0);
    p.update(1, 4, 4.0);
    Progress.State s = p.update(1, 5, 5.0);
    assertThat(s.stepsPerSecond()).isEqualTo(2.0);
    assertThat(s.batchMeanLoss()).isEqualTo(3.0);
    assertThat(s.runEtaSeconds()).isEqualTo(7.5); // 15 of 20 steps left
    assertThat(s.sweepEtaSeconds()).isEqualTo(7.5 + 2 * (2 + 7.5)); // two more runs of 9.5 s
    Progress.State next = p.update(2, 1, 10.0); // a new epoch restarts the running mean
    assertThat(next.batchMeanLoss()).isEqualTo(10.0);
    assertThat(Progress.render(s, 80)).contains("40 samples/s").contains("ETA 0:08 sweep 0:27")
        .contains("batch-mean loss 3.0000");
  }

  /** A sweep's runs get bars that know their position (run index + 1 of the planned runs) and print no epoch lines. */
  @Test
  void sweepRunsPassTheirPositionToTheBar(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) {
    String yaml = """
        name: tiny
        description: tiny
        figure: rescaling
        base: {dataset: mnist-sample, hidden: [8], per_class_train: 4, validation_size: 50, epochs: 2, threads: 1,
               batch_size: 10, seed: 3, record_norms: false}
        grid:
          optimizer: [sgd, path-sgd]
          lr: [0.05, 0.1]
        scales:
          smoke: {description: s}
          quick: {description: q}
          paper: {description: p}
        """;
    var printed = new java.io.ByteArrayOutputStream();
    var ps = new java.io.PrintStream(printed, true, java.nio.charset.StandardCharsets.UTF_8);
    java.util.List<Progress> made = new java.util.ArrayList<>();
    io.github.pathsgd.experiments.sweep.SweepRunner[] runner = new io.github.pathsgd.experiments.sweep.SweepRunner[1];
    var o = io.github.pathsgd.experiments.sweep.SweepRunner.Options.of(tmp).withListeners(run -> {
      Progress p = ExperimentsCommand.RunCommand.sweepProgress(ps, run, runner[0].plannedRuns(), false);
      made.add(p);
      return p;
    });
    runner[0] = new io.github.pathsgd.experiments.sweep.SweepRunner(
        io.github.pathsgd.experiments.sweep.SweepSpec.parse(yaml, "tiny"), "smoke", 1, o);
    runner[0].run();
    assertThat(made).hasSize(4);
    for (int i = 0; i < made.size(); i++) {
      assertThat(made.get(i).state().sweep()).isEqualTo(new Progress.Sweep(i + 1, 4));
      assertThat(made.get(i).state().batchSize()).isEqualTo(10);
      assertThat(made.get(i).state().epoch()).isEqualTo(2);
    }
    assertThat(printed.toString(java.nio.charset.StandardCharsets.UTF_8)).doesNotContain("epoch ");
  }
}
