package io.github.pathsgd.experiments.sweep;

import io.github.pathsgd.experiments.sweep.StepSizeRule.Candidate;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Successive halving replayed on an exhaustive step-size selection: what {@link SuccessiveHalving} would have kept
 * and picked, and at what cost, computed from the selection runs' own per-epoch validation errors. Exact, not an
 * estimate: a run's first b epochs do not depend on its epoch budget (the shuffle and dropout streams are split per
 * epoch, and nothing in the loop reads the budget), so a rung of budget b sees exactly the prefix of length b of the
 * full run. A run that diverged during epoch k counts as diverged in every rung of budget ≥ k and as a k-epoch run in
 * the cost.
 *
 * <p>Run it on a finished sweep folder: {@code java -cp cli/target/pathsgd.jar
 * io.github.pathsgd.experiments.sweep.HalvingReplay OUT PRESET SCALE [BUDGETS KEEP]}, e.g. {@code … out/compare
 * compare quick 2,4,8 0.34}.
 */
public final class HalvingReplay {
  private HalvingReplay() {}

  /**
   * One group's outcome: the exhaustive pick, the halving pick (α, or null), and the epochs each trained; {@code
   * halvingEpochs} counts every rung as a run from scratch, {@code continuedEpochs} as the sweep runner trains it (a
   * kept run continues from its previous rung, and a diverged run is not trained again).
   */
  public record Outcome(Integer exhaustive, Integer halving, long exhaustiveEpochs, long halvingEpochs,
      List<List<Integer>> rungs, long continuedEpochs) {
    public boolean samePick() {
      return java.util.Objects.equals(exhaustive, halving);
    }
  }

  /** The candidate as a rung of budget {@code b} sees it. */
  static Candidate truncate(Candidate c, int b) {
    int ran = epochsRun(c);
    boolean diverged = c.diverged() && ran <= b;
    double[] v = Arrays.copyOf(c.validationErrors(), Math.min(b, c.validationErrors().length));
    return new Candidate(c.runId(), c.alpha(), c.lr(), diverged, v);
  }

  /** Epochs a run trained: its recorded epochs, plus the one it diverged in. */
  static int epochsRun(Candidate c) {
    return c.validationErrors().length + (c.diverged() ? 1 : 0);
  }

  /** Replays a plan on one group's full-budget candidates (in the grid's order). */
  public static Outcome replay(List<Candidate> group, SuccessiveHalving.Plan plan, double tolerance) {
    StepSizeRule.Decision full = StepSizeRule.select(group, tolerance);
    long exhaustiveEpochs = 0;
    for (Candidate c : group) {
      exhaustiveEpochs += epochsRun(c);
    }
    List<Candidate> alive = group;
    long epochs = 0;
    java.util.Map<String, Integer> reached = new java.util.HashMap<>();
    List<List<Integer>> rungs = new ArrayList<>();
    Candidate pick = null;
    for (int r = 0; r < plan.budgets().size(); r++) {
      int b = plan.budgets().get(r);
      List<Candidate> rung = new ArrayList<>();
      List<Integer> alphas = new ArrayList<>();
      for (Candidate c : alive) {
        rung.add(truncate(c, b));
        alphas.add(c.alpha());
        epochs += Math.min(b, epochsRun(c));
        reached.put(c.runId(), b);
      }
      rungs.add(alphas);
      if (r == plan.budgets().size() - 1) {
        pick = StepSizeRule.select(rung, tolerance).chosen();
        break;
      }
      List<Integer> kept = SuccessiveHalving.promote(plan, rung, tolerance);
      List<Candidate> next = new ArrayList<>();
      for (Candidate c : alive) {
        if (kept.contains(c.alpha())) {
          next.add(c);
        }
      }
      alive = next;
    }
    long continued = 0;
    for (Candidate c : group) {
      continued += Math.min(reached.getOrDefault(c.runId(), 0), epochsRun(c));
    }
    return new Outcome(full.chosen() == null ? null : full.chosen().alpha(), pick == null ? null : pick.alpha(),
        exhaustiveEpochs, epochs, rungs, continued);
  }

  public static void main(String[] args) {
    if (args.length != 3 && args.length != 5) {
      System.err.println("usage: HalvingReplay OUT PRESET SCALE [BUDGETS KEEP]   e.g. out/compare compare quick 2,4,8 "
          + "0.34");
      System.exit(2);
    }
    SweepSpec spec = SweepSpec.load(args[1]);
    SweepSpec.StepSize st = spec.stepSize(args[2]);
    if (st == null || st.halving()) {
      System.err.println("HalvingReplay: " + args[1] + " at scale " + args[2] + " has " + (st == null ? "no step-size "
          + "selection" : "step_size.rule halving") + "; it replays a finished exhaustive selection");
      System.exit(2);
    }
    List<SweepRun> first = spec.expand(args[2], 1);
    Selection sel = Selection.compute(first, Path.of(args[0]), st);
    if (!sel.complete()) {
      throw new IllegalStateException(args[0] + ": the selection is not complete (" + sel.unfinished()
          + " runs unfinished)");
    }
    int epochs = first.get(0).config().epochs();
    SuccessiveHalving.Plan plan = args.length == 5 ? new SuccessiveHalving.Plan(Arrays.stream(args[3].split(","))
        .map(Integer::valueOf).toList(), Double.parseDouble(args[4])) : SuccessiveHalving.Plan.defaults(epochs);
    System.out.printf(Locale.ROOT, "plan: budgets %s, keep %.3f; tolerance %.4f%n", plan.budgets(), plan.keep(),
        st.tol());
    long ex = 0;
    long sh = 0;
    long co = 0;
    int same = 0;
    for (Selection.Group g : sel.groups()) {
      Outcome o = replay(g.candidates(), plan, st.tol());
      ex += o.exhaustiveEpochs();
      sh += o.halvingEpochs();
      co += o.continuedEpochs();
      same += o.samePick() ? 1 : 0;
      System.out.printf(Locale.ROOT, "%-60s exhaustive α %-4s halving α %-4s epochs %3d vs %3d (continued %3d)  "
          + "rungs %s%n", g.key(), o.exhaustive(), o.halving(), o.exhaustiveEpochs(), o.halvingEpochs(),
          o.continuedEpochs(), o.rungs());
    }
    System.out.printf(Locale.ROOT, "groups %d, same pick %d; epochs: exhaustive %d, halving %d (%.2f of exhaustive), "
        + "halving with continuation %d (%.2f)%n", sel.groups().size(), same, ex, sh, (double) sh / ex, co,
        (double) co / ex);
  }
}
