package io.github.pathsgd.experiments.sweep;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Successive halving over the step-size grid (Jamieson and Talwalkar, "Non-stochastic Best Arm Identification and
 * Hyperparameter Optimization", AISTATS 2016; the rung form of Li et al., "Hyperband", JMLR 2018): every α of a group
 * is trained for the first rung's epoch budget, the best fraction {@code keep} of them (rounded up, at least one) go
 * on to the next rung's budget, and so on; the last rung's budget is the full selection budget, and
 * {@link StepSizeRule} picks among the α that reached it, exactly as the exhaustive rule picks among all.
 *
 * <p>Ranking within a rung uses the selection rule's own order, so that a rung keeps what the final pick would
 * prefer: candidates that reach best + tolerance (best = the lowest validation error of the rung) rank by that
 * first epoch t(α), then by final validation error; candidates that never get there follow, by final validation
 * error; diverged candidates come last; remaining ties keep the grid's order (the smaller α first).
 *
 * <p>With the defaults (budgets E/4, E/2, E rounded up, keep 1/3) an 11-α grid costs 11·E/4 + 4·E/2 + 2·E = 6.75·E
 * epochs instead of 11·E if every rung trains from scratch (as pathsgd-spark runs it), and 11·E/4 + 4·E/4 + 2·E/2 =
 * 4.75·E when a kept run continues from its previous rung's checkpoint, as {@link SweepRunner} runs it ({@code
 * Continuation}): a run of a later rung is the run with the larger epoch budget, whose first epochs are the earlier
 * rung's run (no schedule depends on the budget).
 */
public final class SuccessiveHalving {
  private SuccessiveHalving() {}

  /**
   * The rung plan.
   *
   * @param budgets epoch budgets, strictly increasing; the last is the full selection budget
   * @param keep fraction of a rung's candidates that go on to the next rung, in (0, 1]
   */
  public record Plan(List<Integer> budgets, double keep) {
    public Plan {
      if (budgets == null || budgets.isEmpty()) {
        throw new IllegalArgumentException("successive halving: budgets must list at least one epoch count");
      }
      for (int i = 0; i < budgets.size(); i++) {
        if (budgets.get(i) == null || budgets.get(i) < 1 || i > 0 && budgets.get(i) <= budgets.get(i - 1)) {
          throw new IllegalArgumentException("successive halving: budgets " + budgets
              + " must be positive epoch counts in increasing order");
        }
      }
      if (!(keep > 0 && keep <= 1)) {
        throw new IllegalArgumentException("successive halving: keep " + keep + " must be in (0, 1]");
      }
      budgets = List.copyOf(budgets);
    }

    /** The default plan for a selection budget of {@code epochs}: ⌈E/4⌉, ⌈E/2⌉, E (duplicates dropped), keep 1/3. */
    public static Plan defaults(int epochs) {
      List<Integer> b = new ArrayList<>();
      for (int e : new int[] {(epochs + 3) / 4, (epochs + 1) / 2, epochs}) {
        if (b.isEmpty() || e > b.get(b.size() - 1)) {
          b.add(e);
        }
      }
      return new Plan(b, 1.0 / 3);
    }

    /** How many of {@code n} candidates go on from a rung: ⌈keep·n⌉ (with a 1e-9 slack), at least 1. */
    public int survivors(int n) {
      return Math.max(1, Math.min(n, (int) Math.ceil(keep * n - 1e-9)));
    }

    /** Epochs the plan trains for {@code n} candidates, against n × the last budget for the exhaustive rule. */
    public long epochs(int n) {
      long total = 0;
      int alive = n;
      for (int r = 0; r < budgets.size(); r++) {
        total += (long) alive * budgets.get(r);
        alive = survivors(alive);
      }
      return total;
    }

    /**
     * Epochs the plan trains for {@code n} candidates when a kept run continues from its previous rung's checkpoint
     * (as {@link SweepRunner} runs it): Σ_r alive_r · (b_r − b_{r−1}), if nothing diverges.
     */
    public long continuedEpochs(int n) {
      long total = 0;
      int alive = n;
      int before = 0;
      for (int b : budgets) {
        total += (long) alive * (b - before);
        before = b;
        alive = survivors(alive);
      }
      return total;
    }
  }

  /**
   * The candidates of one rung in rank order (see the class comment), each {@link StepSizeRule.Candidate} in the
   * grid's order on input.
   */
  public static List<StepSizeRule.Candidate> rank(List<StepSizeRule.Candidate> rung, double tolerance) {
    StepSizeRule.Decision d = StepSizeRule.select(rung, tolerance);
    Map<String, Integer> t = d.firstEpochWithin();
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < rung.size(); i++) {
      order.add(i);
    }
    Comparator<Integer> cmp = Comparator.comparingInt((Integer i) -> rung.get(i).diverged() ? 2
        : t.get(rung.get(i).runId()) != null ? 0 : 1);
    cmp = cmp.thenComparingInt(i -> {
      Integer ti = t.get(rung.get(i).runId());
      return ti == null ? Integer.MAX_VALUE : ti;
    });
    cmp = cmp.thenComparingDouble(i -> {
      double f = rung.get(i).finalError();
      return Double.isNaN(f) ? Double.POSITIVE_INFINITY : f;
    });
    order.sort(cmp.thenComparingInt(i -> i)); // stable: the grid's order breaks the remaining ties
    List<StepSizeRule.Candidate> out = new ArrayList<>();
    for (int i : order) {
      out.add(rung.get(i));
    }
    return out;
  }

  /** The α that go on from a rung: the first {@link Plan#survivors} of {@link #rank}, in the grid's order. */
  public static List<Integer> promote(Plan plan, List<StepSizeRule.Candidate> rung, double tolerance) {
    List<StepSizeRule.Candidate> ranked = rank(rung, tolerance);
    List<StepSizeRule.Candidate> kept = ranked.subList(0, plan.survivors(rung.size()));
    List<Integer> alphas = new ArrayList<>();
    for (StepSizeRule.Candidate c : rung) {
      if (kept.contains(c)) {
        alphas.add(c.alpha());
      }
    }
    return alphas;
  }
}
