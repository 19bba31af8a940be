package io.github.pathsgd.experiments.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.experiments.sweep.StepSizeRule.Candidate;
import io.github.pathsgd.experiments.sweep.StepSizeRule.Decision;
import java.util.List;
import org.junit.jupiter.api.Test;

class StepSizeRuleTest {
  static Candidate c(String id, int alpha, boolean diverged, double... v) {
    return new Candidate(id, alpha, SweepPlan.lrOf(alpha), diverged, v);
  }

  @Test
  void picksTheEarliestEpochWithinToleranceOfTheBest() {
    // best overall = 0.100 (a2 at epoch 4); a1 reaches 0.104 <= 0.105 at epoch 2; a2 at epoch 3 (0.105); a3 never
    Decision d = StepSizeRule.select(List.of(
        c("a1", 1, false, 0.30, 0.104, 0.110, 0.120),
        c("a2", 2, false, 0.40, 0.200, 0.105, 0.100),
        c("a3", 3, false, 0.80, 0.600, 0.400, 0.300)), 0.005);
    assertThat(d.best()).isEqualTo(0.100);
    assertThat(d.chosen().runId()).isEqualTo("a1");
    assertThat(d.firstEpochWithin()).containsEntry("a1", 2).containsEntry("a2", 3).containsEntry("a3", null);
    // with a tighter tolerance only a2 gets there
    assertThat(StepSizeRule.select(List.of(
        c("a1", 1, false, 0.30, 0.104, 0.110, 0.120),
        c("a2", 2, false, 0.40, 0.200, 0.105, 0.100)), 0.001).chosen().runId()).isEqualTo("a2");
  }

  @Test
  void tiesGoToTheLowerFinalValidationErrorAndDivergedRunsAreNeverPicked() {
    Decision d = StepSizeRule.select(List.of(
        c("a0", 0, true, 0.01),
        c("a1", 1, false, 0.20, 0.100, 0.130),
        c("a2", 2, false, 0.25, 0.102, 0.101)), 0.005);
    assertThat(d.best()).isEqualTo(0.100);
    assertThat(d.firstEpochWithin()).containsEntry("a0", null).containsEntry("a1", 2).containsEntry("a2", 2);
    assertThat(d.chosen().runId()).isEqualTo("a2");
    Decision none = StepSizeRule.select(List.of(c("a0", 0, true, 0.5), c("a1", 1, true)), 0.005);
    assertThat(none.chosen()).isNull();
    assertThat(none.best()).isNaN();
  }
}
