package io.github.pathsgd.experiments.sweep;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The step-size selection rule (docs/paper-spec.md §5.3 [Rec]), "fastest attainment of the minimum validation error":
 *
 * <ol>
 *   <li>best = the lowest validation error reached at any epoch ≥ 1 by any non-diverged candidate (any α);
 *   <li>for each non-diverged candidate, t(α) = the first epoch ≥ 1 whose validation error is ≤ best + tolerance
 *       (default tolerance 0.005, i.e. 0.5 percentage points); a candidate that never gets there has no t;
 *   <li>pick the smallest t; ties are broken by the lower final validation error, then by the list order (the
 *       smaller α).
 * </ol>
 *
 * Diverged candidates are never picked and do not set "best". If every candidate diverged, nothing is picked.
 */
public final class StepSizeRule {
  private StepSizeRule() {}

  /**
   * One step size's validation history.
   *
   * @param validationErrors element i is the validation error after epoch i+1 (epoch 0, the initialization, left out)
   */
  public record Candidate(String runId, Integer alpha, double lr, boolean diverged, double[] validationErrors) {
    public double finalError() {
      return validationErrors.length == 0 ? Double.NaN : validationErrors[validationErrors.length - 1];
    }
  }

  /**
   * The decision.
   *
   * @param chosen the pick, or null if every candidate diverged
   * @param best the best validation error over the non-diverged candidates (NaN if none)
   * @param firstEpochWithin per run id, t(α) (null when never within tolerance or diverged)
   */
  public record Decision(Candidate chosen, double best, double tolerance, Map<String, Integer> firstEpochWithin) {}

  public static Decision select(List<Candidate> candidates, double tolerance) {
    double best = Double.NaN;
    for (Candidate c : candidates) {
      if (c.diverged()) {
        continue;
      }
      for (double v : c.validationErrors()) {
        if (!Double.isNaN(v) && (Double.isNaN(best) || v < best)) {
          best = v;
        }
      }
    }
    Map<String, Integer> first = new LinkedHashMap<>();
    Candidate chosen = null;
    int chosenT = Integer.MAX_VALUE;
    for (Candidate c : candidates) {
      Integer t = null;
      if (!c.diverged() && !Double.isNaN(best)) {
        double[] v = c.validationErrors();
        for (int i = 0; i < v.length; i++) {
          // compare with a small slack so that hand-written decimal errors are not lost to rounding
          if (!Double.isNaN(v[i]) && v[i] <= best + tolerance + 1e-12) {
            t = i + 1;
            break;
          }
        }
      }
      first.put(c.runId(), t);
      if (t == null) {
        continue;
      }
      if (chosen == null || t < chosenT || (t == chosenT && c.finalError() < chosen.finalError())) {
        chosen = c;
        chosenT = t;
      }
    }
    return new Decision(chosen, best, tolerance, first);
  }
}
