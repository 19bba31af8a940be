package io.github.pathsgd.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.core.optim.Optimizers;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The warm-up and timing rule ({@link StepBenchmark.Plan}) and the size sweep's rows and table. */
class StepBenchmarkPlanTest {
  @Test
  void warmUpNeedsBothMinimumsUntilTheCap() {
    StepBenchmark.Plan p = new StepBenchmark.Plan(200, 1.5, 5, 20, 1.0);
    assertThat(p.warmedUp(199, new double[] {2, 2})).isFalse(); // too few steps
    assertThat(p.warmedUp(200, new double[] {2, 1.4})).isFalse(); // one optimizer too short
    assertThat(p.warmedUp(200, new double[] {1.5, 1.6})).isTrue();
    assertThat(p.warmedUp(30, new double[] {5, 5.2})).isTrue(); // the step minimum waived after 5 s
    assertThat(p.timedEnough(19, new double[] {3, 3})).isFalse();
    assertThat(p.timedEnough(20, new double[] {0.9, 3})).isFalse();
    assertThat(p.timedEnough(20, new double[] {1, 1})).isTrue();
    StepBenchmark.Plan fixed = StepBenchmark.Plan.fixed(5, 20);
    assertThat(fixed.warmedUp(4, new double[] {100, 100})).isFalse();
    assertThat(fixed.warmedUp(5, new double[] {0, 0})).isTrue();
    assertThat(fixed.timedEnough(20, new double[] {0, 0})).isTrue();
    assertThat(StepBenchmark.Plan.fixed(0, 1).warmedUp(0, new double[2])).isTrue();
    assertThat(StepBenchmark.Plan.defaults(40)).isEqualTo(new StepBenchmark.Plan(200, 1.5, 5, 40, 1.0));
    assertThat(StepBenchmark.Plan.defaults(20).describe()).isEqualTo("warm-up: each optimizer at least 200 steps and"
        + " 1.5 s (the step minimum waived after 5 s of warm-up); timed: at least 20 rounds and 1 s of each"
        + " optimizer's steps");
    assertThatThrownBy(() -> new StepBenchmark.Plan(-1, 1, 5, 20, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new StepBenchmark.Plan(1, 1, 5, 0, 1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void stepSecondsFollowsThePlan() {
    var t = StepBenchmark.stepSeconds(new int[] {20, 16, 4}, 8,
        List.of(Optimizers.sgd(0.01), Optimizers.pathSgd(0.01, 2)),
        new StepBenchmark.Plan(30, 0.05, Double.POSITIVE_INFINITY, 5, 0.03));
    assertThat(t.warmupSteps()).isGreaterThanOrEqualTo(30);
    assertThat(t.timedSteps()).isGreaterThanOrEqualTo(5);
    for (int j = 0; j < 2; j++) {
      assertThat(t.warmupSeconds()[j]).isGreaterThanOrEqualTo(0.05);
      assertThat(t.timedSeconds()[j]).isGreaterThanOrEqualTo(0.03);
      assertThat(t.drift()[j]).isPositive();
    }
    assertThat(t.pairedRatio()[1][0]).isLessThanOrEqualTo(t.pairedRatio()[1][1]);
    assertThat(t.pairedRatio()[1][1]).isLessThanOrEqualTo(t.pairedRatio()[1][2]);
    // the cap: a huge step minimum stops counting after 0.05 s of warm-up
    var c = StepBenchmark.stepSeconds(new int[] {20, 16, 4}, 8, List.of(Optimizers.sgd(0.01)),
        new StepBenchmark.Plan(100_000_000, 0, 0.05, 2, 0));
    assertThat(c.warmupSteps()).isLessThan(100_000_000);
    assertThat(c.warmupSeconds()[0]).isGreaterThanOrEqualTo(0.05);
    assertThat(c.timedSteps()).isEqualTo(2);
    // exactly the fixed counts
    var f = StepBenchmark.stepSeconds(new int[] {20, 16, 4}, 8, List.of(Optimizers.sgd(0.01)), 3, 7);
    assertThat(f.warmupSteps()).isEqualTo(3);
    assertThat(f.timedSteps()).isEqualTo(7);
  }

  @Test
  void sweepRowAndTable() {
    StepBenchmark.Plan plan = new StepBenchmark.Plan(5, 0.01, 5, 3, 0.01);
    Map<String, Object> row = SizeSweep.sweepRow(SizeSweep.sweepArch(30, 16), 10, 1, plan);
    assertThat(row.get("arch")).isEqualTo("30-16-16-10");
    assertThat(row.get("threads")).isEqualTo(1);
    double q25 = (Double) row.get("ratio_q25");
    double med = (Double) row.get("ratio_median");
    double q75 = (Double) row.get("ratio_q75");
    assertThat(q25).isLessThanOrEqualTo(med);
    assertThat(med).isLessThanOrEqualTo(q75);
    assertThat((Double) row.get("sgd_samples_per_s")).isEqualTo(10 / ((Double) row.get("sgd_ms_per_step") / 1e3));
    Map<String, Object> fake = new java.util.LinkedHashMap<>(row);
    fake.put("threads", 2);
    fake.put("arch", "784-4000-4000-10");
    fake.put("sgd_samples_per_s", 861.4);
    fake.put("path_sgd_samples_per_s", 838.0);
    fake.put("ratio_median", 1.0277);
    fake.put("ratio_q25", 1.009);
    fake.put("ratio_q75", 1.0604);
    fake.put("pytorch_sgd_samples_per_s", 532.2);
    fake.put("drift_sgd", 1.01);
    fake.put("drift_path_sgd", 0.99);
    Map<String, Object> drifting = new java.util.LinkedHashMap<>(fake);
    drifting.put("drift_path_sgd", 1.3);
    List<String> lines = SizeSweep.table(List.of(row, fake, drifting), 100, plan).lines().toList();
    assertThat(lines.get(0)).startsWith("Size sweep, batch 100: warm-up: each optimizer at least 5 steps");
    assertThat(lines.get(1)).contains("threads", "arch", "SGD samples/s", "Path-SGD samples/s",
        "Path-SGD/SGD step (IQR)", "PyTorch SGD samples/s");
    assertThat(lines.get(2)).contains("30-16-16-10").containsPattern(" -( +\\*)?$");
    assertThat(lines.get(3).trim()).isEqualTo("2  784-4000-4000-10            861                 838"
        + "      1.028 (1.009-1.060)                    532");
    assertThat(lines.get(4)).isEqualTo(lines.get(3) + "  *");
    assertThat(lines).anyMatch(l -> l.contains("no Path-SGD"));
    assertThat(lines).contains("*: the steps were still getting faster (drift above 1.10): warm up longer.");
  }
}
