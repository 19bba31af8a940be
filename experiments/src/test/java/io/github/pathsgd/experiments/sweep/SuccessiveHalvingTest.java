package io.github.pathsgd.experiments.sweep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.experiments.sweep.StepSizeRule.Candidate;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Successive halving: the rung plan's arithmetic, the ranking worked out by hand, and properties against the rule. */
class SuccessiveHalvingTest {
  private static Candidate c(int alpha, boolean diverged, double... val) {
    return new Candidate("a" + alpha, alpha, Math.pow(10, -alpha), diverged, val);
  }

  @Test
  void defaultPlanAndItsCostWorkedOutByHand() {
    SuccessiveHalving.Plan p = SuccessiveHalving.Plan.defaults(8);
    assertThat(p.budgets()).containsExactly(2, 4, 8);
    // 11 candidates: 11 × 2, then ⌈11/3⌉ = 4 × 4, then ⌈4/3⌉ = 2 × 8 = 54 epochs (exhaustive: 88)
    assertThat(p.survivors(11)).isEqualTo(4);
    assertThat(p.survivors(4)).isEqualTo(2);
    assertThat(p.survivors(1)).isEqualTo(1);
    assertThat(p.epochs(11)).isEqualTo(54);
    assertThat(SuccessiveHalving.Plan.defaults(1).budgets()).containsExactly(1);
    assertThat(SuccessiveHalving.Plan.defaults(3).budgets()).containsExactly(1, 2, 3);
    assertThat(new SuccessiveHalving.Plan(List.of(5), 1).epochs(11)).isEqualTo(55); // one rung = exhaustive
    assertThat(new SuccessiveHalving.Plan(List.of(1, 3), 0.5).survivors(3)).isEqualTo(2); // ⌈1.5⌉
    assertThat(new SuccessiveHalving.Plan(List.of(1, 3), 0.5).survivors(4)).isEqualTo(2); // exactly 2, no slack
  }

  @Test
  void badPlansAreRefusedByValue() {
    assertThatThrownBy(() -> new SuccessiveHalving.Plan(List.of(2, 2), 0.3)).hasMessageContaining("[2, 2]");
    assertThatThrownBy(() -> new SuccessiveHalving.Plan(List.of(0, 2), 0.3)).hasMessageContaining("positive");
    assertThatThrownBy(() -> new SuccessiveHalving.Plan(List.of(1, 2), 0)).hasMessageContaining("keep 0.0");
    assertThatThrownBy(() -> new SuccessiveHalving.Plan(List.of(), 0.5)).hasMessageContaining("at least one");
  }

  @Test
  void rankingWorkedOutByHand() {
    // best = 0.10 (α 2, epoch 2); tolerance 0.005: α 1 gets to ≤ 0.105 at epoch 2 (0.104), α 2 at epoch 2, α 3 at
    // epoch 1 (0.105); α 0 never (0.2, 0.15); α 4 diverged (its 0.01 does not set best).
    List<Candidate> rung = List.of(c(0, false, 0.2, 0.15), c(1, false, 0.3, 0.104), c(2, false, 0.12, 0.10),
        c(3, false, 0.105, 0.11), c(4, true, 0.01));
    List<Candidate> r = SuccessiveHalving.rank(rung, 0.005);
    // t: α3 = 1; α1 = α2 = 2, tie broken by final error (0.10 < 0.104); then α0 (never within); α4 last (diverged)
    assertThat(r.stream().map(Candidate::alpha)).containsExactly(3, 2, 1, 0, 4);
    SuccessiveHalving.Plan p = new SuccessiveHalving.Plan(List.of(1, 2), 0.5);
    // keep 0.5 of 5 = ⌈2.5⌉ = 3: α 3, 2, 1, returned in the grid's order
    assertThat(SuccessiveHalving.promote(p, rung, 0.005)).containsExactly(1, 2, 3);
  }

  @Test
  void theTopOfTheRankingIsTheRulesPickOnEveryRandomRung() {
    Random rnd = new Random(7);
    for (int trial = 0; trial < 2000; trial++) {
      int n = 1 + rnd.nextInt(11);
      int epochs = 1 + rnd.nextInt(6);
      List<Candidate> rung = new ArrayList<>();
      for (int a = 0; a < n; a++) {
        double[] v = new double[epochs];
        for (int e = 0; e < epochs; e++) {
          v[e] = Math.round(rnd.nextDouble() * 40) / 100.0; // coarse values: ties happen
        }
        rung.add(c(a, rnd.nextInt(5) == 0, v));
      }
      StepSizeRule.Decision d = StepSizeRule.select(rung, 0.01);
      List<Candidate> ranked = SuccessiveHalving.rank(rung, 0.01);
      assertThat(ranked).hasSize(n).containsExactlyInAnyOrderElementsOf(rung);
      if (d.chosen() != null) {
        assertThat(ranked.get(0)).isSameAs(d.chosen());
      } else {
        assertThat(rung).allMatch(Candidate::diverged);
      }
      // promoting keeps the rule's pick, so a one-rung-later decision among the survivors can still find it
      SuccessiveHalving.Plan p = new SuccessiveHalving.Plan(List.of(1, 2), 1.0 / 3);
      List<Integer> kept = SuccessiveHalving.promote(p, rung, 0.01);
      assertThat(kept).hasSize(p.survivors(n)).isSorted();
      if (d.chosen() != null) {
        assertThat(kept).contains(d.chosen().alpha());
      }
    }
  }

  @Test
  void replayOnAnExhaustiveGroupWorkedOutByHand() {
    List<Candidate> g = List.of(c(0, false, 0.5, 0.4, 0.3, 0.2), c(1, false, 0.3, 0.2, 0.1, 0.05),
        c(2, true, 0.25), c(3, false, 0.35, 0.15, 0.12, 0.11));
    // exhaustive: best 0.05 (α 1, epoch 4), only α 1 gets within 0.005 → α 1; epochs 4 + 4 + 2 (diverged in 2) + 4
    // rung 1 (1 epoch): α 2 is not yet diverged and best (0.25, t = 1); then by final error α 1, α 3, α 0; keep 2
    // rung 2 (2 epochs): α 2 diverged; α 1 kept; rung 3 (4 epochs): α 1. Cost 4·1 + (2 + 2) + 4 = 12
    HalvingReplay.Outcome o = HalvingReplay.replay(g, new SuccessiveHalving.Plan(List.of(1, 2, 4), 0.5), 0.005);
    assertThat(o.exhaustive()).isEqualTo(1);
    assertThat(o.halving()).isEqualTo(1);
    assertThat(o.exhaustiveEpochs()).isEqualTo(14);
    assertThat(o.halvingEpochs()).isEqualTo(12);
    assertThat(o.rungs()).containsExactly(List.of(0, 1, 2, 3), List.of(1, 2), List.of(1));
    // a plan whose first rung is too short to see α 1 overtake: budgets 1, 4 with keep 0.25 keeps only α 2,
    // which diverged: halving picks nothing where the exhaustive rule picks α 1
    HalvingReplay.Outcome bad = HalvingReplay.replay(g, new SuccessiveHalving.Plan(List.of(1, 4), 0.25), 0.005);
    assertThat(bad.rungs()).containsExactly(List.of(0, 1, 2, 3), List.of(2));
    assertThat(bad.halving()).isNull();
    assertThat(bad.samePick()).isFalse();
    assertThat(bad.halvingEpochs()).isEqualTo(4 + 2);
  }
}
