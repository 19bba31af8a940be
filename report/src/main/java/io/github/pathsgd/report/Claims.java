package io.github.pathsgd.report;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.report.ResultSet.Run;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The chapter's claims checked against a sweep's result files, one verdict per claim and data set, each exactly one of
 * {@link #HOLDS}, {@link #DOES_NOT_HOLD} or {@link #CANNOT_TELL}, with the numbers it rests on.
 *
 * <p>Rules (docs/experiments.md, "Verdicts"):
 *
 * <ul>
 *   <li>Every claim is checked against every baseline it names: E3/E4 compare Path-SGD's final training loss with
 *       SGD's and with AdaGrad's, for each data set, initialization and dropout setting; E2 compares SGD balanced with
 *       SGD unbalanced, and Path-SGD balanced with Path-SGD unbalanced; E1 compares the test error at the largest H
 *       with the test error at the smallest H of zero training error, and ranks the measures that track test error.
 *   <li>A compared quantity is the mean over seeds; next to every difference stand the seed spread (max − min over
 *       seeds, the larger of the two sides) and the float32 noise floor (the same run trained with 1 and with 2 BLAS
 *       threads: the sweep's phase "noise", the absolute difference of the same quantity). The margin is max(seed
 *       spread, noise floor); a difference within it is "cannot tell"; with one seed a side the margin is not estimated
 *       at all (a noise floor measures float32 noise, not the spread between seeds), and the verdict is "cannot
 *       tell", saying so ({@link #marginEstimated}).
 *   <li>A diverged run is reported as diverged, never as slower or faster: a comparison with a diverged run on either
 *       side is "cannot tell", naming the run that diverged and its epoch.
 *   <li>A claim that two runs coincide (Path-SGD's invariance) holds when their largest per-epoch gap is within the
 *       noise floor, and does not hold when it is larger; without a measured noise floor it is "cannot tell".
 *   <li>Runs are compared only within one setting: runs that differ in a config key the claim does not compare (any
 *       key but the data set, optimizer, init, dropout, the seed and, after a step-size selection, lr; e.g. a user's
 *       lr grid or two architectures) get a verdict each, the claim naming the setting ("..., lr 0.1"), never pooled
 *       as seeds.
 * </ul>
 */
final class Claims {
  private Claims() {}

  static final String HOLDS = "holds";
  static final String DOES_NOT_HOLD = "does not hold";
  static final String CANNOT_TELL = "cannot tell";

  /** One claim's verdict on one data set, with the numbers. */
  record Verdict(String claim, String dataset, String verdict, String numbers, String strength) {
    Verdict(String claim, String dataset, String verdict, String numbers) {
      this(claim, dataset, verdict, numbers, "");
    }

    /**
     * "holds (clear): numbers", "holds (thin): ...", "holds to float32 precision: ...", or "verdict: numbers" when the
     * verdict has no strength word.
     */
    String cell() {
      return verdict + (strength.isEmpty() ? "" : strength.startsWith("to ") ? " " + strength : " (" + strength + ")")
          + ": " + numbers;
    }
  }

  static double mean(List<Double> xs) {
    double s = 0;
    int n = 0;
    for (double x : xs) {
      if (Double.isFinite(x)) {
        s += x;
        n++;
      }
    }
    return n == 0 ? Double.NaN : s / n;
  }

  /** max − min of the finite values (0 for one value, NaN for none). */
  /**
   * Whether a margin max(seed spread, noise floor) was estimated at all: one side has at least two seeds. With one
   * seed a side the seed spread is 0 only because nothing measured it, and a noise floor does not stand in for it:
   * the floor is the float32 noise of one run (1 against 2 BLAS threads), while two settings' runs differ by their
   * seeds' spread too. So a difference is "cannot tell", never "holds" ({@code floor} is kept for the callers' text).
   */
  static boolean marginEstimated(int seedsA, int seedsB, double floor) {
    return Math.max(seedsA, seedsB) >= 2;
  }

  /** The words a verdict adds when its margin could not be estimated. */
  static final String NO_MARGIN = "; the margin could not be estimated (one seed a side: the spread between seeds is "
      + "unknown, and a noise floor measures float32 noise only): run more seeds (--seeds) to tell";

  static double spread(List<Double> xs) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (double x : xs) {
      if (Double.isFinite(x)) {
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
      }
    }
    return hi < lo ? Double.NaN : hi - lo;
  }

  static String g(double v) {
    if (Double.isNaN(v)) {
      return "n/a";
    }
    return Math.abs(v) >= 1e-3 || v == 0 ? String.format(Locale.ROOT, "%.4f", v)
        : String.format(Locale.ROOT, "%.2e", v);
  }

  static double finalLoss(Run r) {
    TreeMap<Integer, Double> c = r.curve("train/loss");
    return c.isEmpty() ? Double.NaN : c.lastEntry().getValue();
  }

  static double testError(Run r) {
    return r.summary("final", "test_error");
  }

  static boolean diverged(Run r) {
    return r.status().equals("diverged");
  }

  /**
   * "SGD unbalanced diverged on 1 of 3 seeds (seed 2, in epoch 3)" (or "... on 2 of 3 seeds (seed 1, in epoch 1;
   * seed 3, in epoch 2)") for a side with diverged runs, else null.
   */
  static String divergence(String side, List<Run> runs) {
    List<String> which = new ArrayList<>();
    for (Run r : runs) {
      if (diverged(r)) {
        which.add("seed " + r.cfg("seed") + ", in epoch "
            + (r.line().path("summary").path("epochs_completed").asInt() + 1));
      }
    }
    return which.isEmpty() ? null
        : side + " diverged on " + which.size() + " of " + runs.size() + " seeds (" + String.join("; ", which) + ")";
  }

  /** The float32 noise floor of a data set: the quantity's difference between the noise runs (1 vs 2 threads). */
  static double noiseFloor(ResultSet rs, String dataset, java.util.function.ToDoubleFunction<Run> quantity) {
    List<Run> noise = rs.phase("noise").stream().filter(r -> r.cfg("dataset").equals(dataset)).toList();
    if (noise.size() < 2 || noise.stream().anyMatch(Claims::diverged)) {
      return Double.NaN;
    }
    List<Double> v = new ArrayList<>();
    noise.forEach(r -> v.add(quantity.applyAsDouble(r)));
    return spread(v);
  }

  /** The keys a setting's runs may differ in and still share its noise floor (what a claim compares, and the seed). */
  static final java.util.Set<String> COMPARED = java.util.Set.of("optimizer", "init", "lr", "seed");

  /**
   * The float32 noise floor of one setting: the largest difference of the quantity between a run and the noise run
   * that repeats it with other BLAS threads, over the noise runs that repeat a run of {@code setting} (the same config
   * but for the optimizer, init, lr, seed and thread count); NaN when no noise run belongs to the setting, never
   * another setting's floor.
   */
  static double noiseFloorIn(List<Run> setting, List<Run> noise, java.util.function.ToDoubleFunction<Run> quantity) {
    List<Run> mine = noise.stream().filter(n -> !diverged(n) && setting.stream().anyMatch(m -> sameBut(m, n,
        COMPARED))).toList();
    List<Run> all = new ArrayList<>(setting);
    all.addAll(mine);
    double floor = Double.NaN;
    for (Run n : mine) {
      for (Run m : all) {
        if (m != n && sameBut(m, n, java.util.Set.of()) && !threads(m).equals(threads(n)) && !diverged(m)) {
          double d = Math.abs(quantity.applyAsDouble(m) - quantity.applyAsDouble(n));
          floor = Double.isNaN(floor) || d > floor ? d : floor;
        }
      }
    }
    return floor;
  }

  /** Largest per-epoch |a − b| of a curve between two runs. */
  static double curveGap(Run a, Run b, String metric) {
    double gap = Double.NaN;
    TreeMap<Integer, Double> x = a.curve(metric);
    TreeMap<Integer, Double> y = b.curve(metric);
    for (Map.Entry<Integer, Double> e : x.entrySet()) {
      Double w = y.get(e.getKey());
      if (w != null) {
        double d = Math.abs(w - e.getValue());
        gap = Double.isNaN(gap) ? d : Math.max(gap, d);
      }
    }
    return gap;
  }

  /**
   * "a is lower than b" on the final training loss, with the margin: holds when b − a exceeds max(seed spread, noise
   * floor), does not hold when a − b exceeds it, else cannot tell; a diverged run on either side is cannot tell.
   */
  static Verdict lower(String claim, String dataset, String nameA, List<Run> a, String nameB, List<Run> b,
      double floor) {
    return lower(claim, dataset, nameA, a, nameB, b, floor, Claims::finalLoss, "final training loss", "train/loss");
  }

  /**
   * "a is lower than b" on a per-run quantity (the final training loss, the test error), with the margin: holds when
   * b − a exceeds max(seed spread, noise floor of the same quantity), does not hold when a − b exceeds it, else cannot
   * tell (equal within the noise); a diverged run on either side is cannot tell.
   */
  static Verdict lower(String claim, String dataset, String nameA, List<Run> a, String nameB, List<Run> b,
      double floor, java.util.function.Function<Run, Double> quantity, String what, String curve) {
    if (a.isEmpty() || b.isEmpty()) {
      return new Verdict(claim, dataset, CANNOT_TELL, "no finished runs of " + (a.isEmpty() ? nameA : nameB));
    }
    String div = Objects.requireNonNullElse(divergence(nameA, a), "");
    String divB = divergence(nameB, b);
    if (!div.isEmpty() || divB != null) {
      String both = div.isEmpty() ? divB : divB == null ? div : div + "; " + divB;
      // still cannot tell, but the reader sees what the runs that did not diverge did
      List<Run> sa = a.stream().filter(r -> !diverged(r)).toList();
      List<Run> sb = b.stream().filter(r -> !diverged(r)).toList();
      String rest = sa.isEmpty() || sb.isEmpty() ? "" : String.format(Locale.ROOT, "; the runs that did not diverge: "
          + "%s %s %s vs %s %s (mean of %d and %d seeds)", what, nameA, g(mean(sa.stream().map(quantity).toList())),
          nameB, g(mean(sb.stream().map(quantity).toList())), sa.size(), sb.size());
      return new Verdict(claim, dataset, CANNOT_TELL, both + ": a diverged run is neither slower nor faster" + rest);
    }
    List<Double> la = a.stream().map(quantity).toList();
    List<Double> lb = b.stream().map(quantity).toList();
    double ma = mean(la);
    double mb = mean(lb);
    double sp = Math.max(spread(la), spread(lb));
    List<Run[]> pairs = pairs(a, b);
    if (pairs.size() >= 2) {
      return paired(claim, dataset, nameA, nameB, pairs, floor, quantity, what, curve, ma, mb, a.size(), b.size(), sp);
    }
    double margin = Math.max(sp, Double.isNaN(floor) ? 0 : floor);
    double d = mb - ma;
    boolean known = marginEstimated(a.size(), b.size(), floor);
    String v = !known ? CANNOT_TELL : d > margin ? HOLDS : -d > margin ? DOES_NOT_HOLD : CANNOT_TELL;
    String nums = String.format(Locale.ROOT, "%s %s %s vs %s %s (mean of %d and %d seeds), "
        + "difference %s; seed spread %s, noise floor %s", what, nameA, g(ma), nameB, g(mb), a.size(), b.size(), g(d),
        g(sp), Double.isNaN(floor) ? "not measured" : g(floor)) + (known ? "" : NO_MARGIN)
        + (v.equals(CANNOT_TELL) ? "" : "; not paired by seed: the margin max(seed spread, noise floor) decides");
    return new Verdict(claim, dataset, v, nums, v.equals(CANNOT_TELL) ? "" : Math.abs(d) > 2 * margin ? "clear"
        : "thin");
  }

  /** The significance level of the paired test, one-sided. */
  static final double ALPHA = 0.05;

  /**
   * The runs of two sides paired by seed (the same seed: the same init and mini-batches), in the order of {@code a};
   * empty unless every run of each side has exactly one partner of the same seed on the other.
   */
  static List<Run[]> pairs(List<Run> a, List<Run> b) {
    List<Run[]> out = new ArrayList<>();
    for (Run x : a) {
      List<Run> same = b.stream().filter(y -> y.cfg("seed").equals(x.cfg("seed"))).toList();
      if (same.size() != 1 || a.stream().filter(y -> y.cfg("seed").equals(x.cfg("seed"))).count() != 1) {
        return List.of();
      }
      out.add(new Run[] {x, same.get(0)});
    }
    return out.size() == b.size() ? out : List.of();
  }

  /**
   * The paired design: per seed d = b − a; holds when the one-sided paired t-test of d &gt; 0 gives p &lt; {@link
   * #ALPHA} and the mean of d exceeds the noise floor, does not hold when the same holds for d &lt; 0, else cannot
   * tell. Strength: "clear" when every seed and every epoch (seed means) goes the verdict's way and p &lt; 0.01, else
   * "thin".
   */
  static Verdict paired(String claim, String dataset, String nameA, String nameB, List<Run[]> pairs, double floor,
      java.util.function.Function<Run, Double> quantity, String what, String curve, double ma, double mb, int na,
      int nb, double sp) {
    int n = pairs.size();
    double[] d = new double[n];
    double[] neg = new double[n];
    int won = 0;
    int lost = 0;
    for (int i = 0; i < n; i++) {
      d[i] = quantity.apply(pairs.get(i)[1]) - quantity.apply(pairs.get(i)[0]);
      neg[i] = -d[i];
      won += d[i] > 0 ? 1 : 0;
      lost += d[i] < 0 ? 1 : 0;
    }
    double md = java.util.Arrays.stream(d).average().orElse(Double.NaN);
    double pUp = Stats.pairedUpper(d);
    double pDown = Stats.pairedUpper(neg);
    double fl = Double.isNaN(floor) ? 0 : floor;
    String v = pUp < ALPHA && md > fl ? HOLDS : pDown < ALPHA && -md > fl ? DOES_NOT_HOLD : CANNOT_TELL;
    // epochs won: the epochs after the first (epoch 0 is the shared init) where a's seed mean is below b's
    TreeMap<Integer, double[]> byEpoch = new TreeMap<>();
    for (Run[] p : pairs) {
      for (int side = 0; side < 2; side++) {
        for (Map.Entry<Integer, Double> e : p[side].curve(curve).entrySet()) {
          byEpoch.computeIfAbsent(e.getKey(), k -> new double[4])[side * 2] += e.getValue();
          byEpoch.get(e.getKey())[side * 2 + 1]++;
        }
      }
    }
    int epochs = 0;
    int epochsWon = 0;
    int epochsLost = 0;
    for (Map.Entry<Integer, double[]> e : byEpoch.entrySet()) {
      double[] x = e.getValue();
      if (e.getKey() > 0 && x[1] == n && x[3] == n) {
        epochs++;
        epochsWon += x[0] < x[2] ? 1 : 0;
        epochsLost += x[0] > x[2] ? 1 : 0;
      }
    }
    String strength = "";
    if (!v.equals(CANNOT_TELL)) {
      boolean up = v.equals(HOLDS);
      boolean all = (up ? won : lost) == n && (epochs == 0 || (up ? epochsWon : epochsLost) == epochs);
      strength = all && (up ? pUp : pDown) < 0.01 ? "clear" : "thin";
    }
    String nums = String.format(Locale.ROOT, "%s %s %s vs %s %s (mean of %d and %d seeds), difference %s; paired by "
        + "seed: %s lower on %d of %d seeds%s, one-sided paired t-test (in the difference's direction) p = %s (%d df; a sign test over %d seeds cannot "
        + "go below %s); seed spread %s, noise floor %s", what, nameA, g(ma), nameB, g(mb), na, nb, g(md), nameA, won,
        n, epochs == 0 ? "" : " and in " + epochsWon + " of " + epochs + " epochs (seed means)",
        p(md < 0 ? pDown : pUp), n - 1, n, p(Math.pow(0.5, n)), g(sp),
        Double.isNaN(floor) ? "not measured" : g(floor));
    return new Verdict(claim, dataset, v, nums, strength);
  }

  /** A p-value: 4 decimals, "< 1e-4" below. */
  static String p(double v) {
    return Double.isNaN(v) ? "n/a" : v < 1e-4 ? "< 1e-4" : String.format(Locale.ROOT, "%.4f", v);
  }

  /**
   * Config keys a noise run may differ in from the run it repeats: its BLAS threads, and the folder it read the same
   * data from ({@code data_dir}, which run ids leave out as well: a noise run added later from another checkout is
   * still a repeat).
   */
  static final java.util.Set<String> NOISE_KEYS = java.util.Set.of("threads", "pin_threads", "data_dir");

  /** Whether two runs have the same config but for {@link #NOISE_KEYS} and {@code also}. */
  static boolean sameBut(Run x, Run y, java.util.Set<String> also) {
    java.util.Set<String> keys = new java.util.TreeSet<>();
    x.config().fieldNames().forEachRemaining(keys::add);
    y.config().fieldNames().forEachRemaining(keys::add);
    for (String k : keys) {
      if (!NOISE_KEYS.contains(k) && !also.contains(k) && !x.config().path(k).equals(y.config().path(k))) {
        return false;
      }
    }
    return true;
  }

  static String threads(Run r) {
    return r.config().path("threads").asText("1");
  }

  /**
   * "a and b coincide" (Path-SGD's invariance), per seed against a noise distribution of the same setting: for each
   * seed the largest per-epoch training-loss gap between a and b at the same BLAS thread count; the noise pairs are
   * the same run (same init) trained with different thread counts, from the noise runs that repeat a run of this
   * setting (never another setting's). Holds ("to float32 precision") when every seed's gap is within the largest
   * noise pair, does not hold when every seed's is beyond it, else cannot tell; no noise pair in the setting: cannot
   * tell ("no floor for this setting"). The cross pairs (a at one thread count, b at another) are shown, not used as
   * the floor: a real gap inflates them as much as the gap under test.
   *
   * <p>The floor is never below the float32 resolution of the losses compared: one unit in the last place of the
   * largest training loss on a's and b's curves as a float32 ({@link Math#ulp(float)}). A gap below it cannot be told
   * from rounding at float32 precision, so every seed within it holds to float32 precision even without noise runs;
   * and a noise distribution that is exactly 0 (small GEMMs that OpenBLAS does not split across threads give the
   * same bits at 1 and 2 threads) does not make a gap of a few parts in 10⁹ "does not hold".
   */
  static Verdict coincide(String claim, String dataset, String nameA, List<Run> a, String nameB, List<Run> b,
      List<Run> noiseRuns) {
    if (a.isEmpty() || b.isEmpty()) {
      return new Verdict(claim, dataset, CANNOT_TELL, "no finished runs of " + (a.isEmpty() ? nameA : nameB));
    }
    String div = divergence(nameA, a);
    String divB = divergence(nameB, b);
    if (div != null || divB != null) {
      return new Verdict(claim, dataset, CANNOT_TELL, (div == null ? divB : divB == null ? div : div + "; " + divB));
    }
    java.util.Set<String> initKeys = java.util.Set.of("init");
    List<Double> pure = new ArrayList<>();
    List<Double> cross = new ArrayList<>();
    TreeMap<String, Double> gaps = new TreeMap<>(Comparator.comparingInt(Integer::parseInt));
    for (String seed : a.stream().map(r -> r.cfg("seed")).distinct().toList()) {
      List<Run> group = new ArrayList<>();
      a.stream().filter(r -> r.cfg("seed").equals(seed)).forEach(group::add);
      b.stream().filter(r -> r.cfg("seed").equals(seed)).forEach(group::add);
      if (group.stream().map(r -> r.cfg("init")).distinct().count() < 2) {
        continue;
      }
      List<Run> mains = List.copyOf(group);
      for (Run n : noiseRuns) {
        boolean repeats = !diverged(n) && n.cfg("seed").equals(seed)
            && mains.stream().anyMatch(m -> sameBut(m, n, initKeys) && m.cfg("optimizer").equals(n.cfg("optimizer")));
        // a noise run with the init and thread count of a run already here is that run again
        boolean dup = group.stream().anyMatch(m -> m.cfg("init").equals(n.cfg("init")) && threads(m).equals(
            threads(n)));
        if (repeats && !dup) {
          group.add(n);
        }
      }
      double gap = Double.NaN;
      for (int i = 0; i < group.size(); i++) {
        for (int j = i + 1; j < group.size(); j++) {
          Run x = group.get(i);
          Run y = group.get(j);
          double c = curveGap(x, y, "train/loss");
          boolean sameInit = x.cfg("init").equals(y.cfg("init"));
          boolean sameThreads = threads(x).equals(threads(y));
          if (sameInit && !sameThreads) {
            pure.add(c);
          } else if (!sameInit && sameThreads) {
            gap = Double.isNaN(gap) || c > gap ? c : gap;
          } else if (!sameInit) {
            cross.add(c);
          }
        }
      }
      if (!Double.isNaN(gap)) {
        gaps.put(seed, gap);
      }
    }
    double sp = Math.max(spread(a.stream().map(Claims::finalLoss).toList()),
        spread(b.stream().map(Claims::finalLoss).toList()));
    double resolution = float32Resolution(a, b);
    double noiseMax = pure.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    boolean withinResolution = !gaps.isEmpty() && gaps.values().stream().allMatch(x -> x <= resolution);
    double floor = Double.isNaN(noiseMax) ? withinResolution ? resolution : Double.NaN : Math.max(noiseMax,
        resolution);
    long inside = gaps.values().stream().filter(x -> x <= floor).count();
    StringBuilder per = new StringBuilder();
    gaps.forEach((seed, gap) -> per.append(per.length() == 0 ? "" : ", ").append("seed ").append(seed).append(' ')
        .append(g(gap)).append(Double.isNaN(floor) || floor == 0 ? "" : String.format(Locale.ROOT, " (%.2f× the "
            + "floor)", gap / floor)));
    String v = Double.isNaN(floor) || gaps.isEmpty() ? CANNOT_TELL : inside == gaps.size() ? HOLDS : inside == 0
        ? DOES_NOT_HOLD : CANNOT_TELL;
    String nums = String.format(Locale.ROOT, "largest training-loss gap over epochs, per seed (same seed, same BLAS "
        + "threads): %s; %s; %s; seed spread of the final loss %s", gaps.isEmpty() ? "no seed on both sides" : per,
        Double.isNaN(floor) ? "no floor for this setting (no noise run repeats one of its runs with other BLAS "
            + "threads)" : Double.isNaN(noiseMax) ? String.format(Locale.ROOT, "no noise run for this setting; every "
            + "gap is within the float32 resolution of the loss, %s (one ulp of the largest loss as a float32)",
            g(resolution)) : String.format(Locale.ROOT, "noise floor of this setting %s, the largest of %d noise "
            + "pairs (same run, 1 vs 2 BLAS threads: %s)%s; %d of %d seeds inside it", g(floor), pure.size(),
            String.join(", ", pure.stream().map(Claims::g).toList()), resolution > noiseMax ? String.format(
            Locale.ROOT, " raised to the float32 resolution of the loss, %s (one ulp of the largest loss as a "
            + "float32)", g(resolution)) : "", inside, gaps.size()),
        cross.isEmpty() ? "no cross pairs" : "cross pairs (" + nameA + " vs " + nameB + " at other BLAS threads, not "
            + "the floor) " + String.join(", ", cross.stream().map(Claims::g).toList()), g(sp));
    // beyond the floor by 2x on every seed, against at least 2 noise pairs, is clear; less is thin
    boolean far = gaps.values().stream().allMatch(x -> x > 2 * floor) && pure.size() >= 2;
    return new Verdict(claim, dataset, v, nums, v.equals(HOLDS) ? "to float32 precision" : v.equals(DOES_NOT_HOLD)
        ? far ? "clear" : "thin" : "");
  }

  /** One float32 ulp of the largest training loss on the curves of {@code a} and {@code b} (0 when none is finite). */
  static double float32Resolution(List<Run> a, List<Run> b) {
    double top = 0;
    for (List<Run> side : List.of(a, b)) {
      for (Run r : side) {
        for (double v : r.curve("train/loss").values()) {
          if (Double.isFinite(v)) {
            top = Math.max(top, Math.abs(v));
          }
        }
      }
    }
    return Math.ulp((float) top);
  }

  /** The noise runs (phase "noise") of a data set. */
  static List<Run> noise(ResultSet rs, String dataset) {
    return rs.phase("noise").stream().filter(r -> r.cfg("dataset").equals(dataset)).toList();
  }

  static List<Run> of(List<Run> runs, String optimizer, String init) {
    return runs.stream().filter(r -> r.cfg("optimizer").equals(optimizer) && r.cfg("init").equals(init)).toList();
  }

  static List<String> datasets(List<Run> runs) {
    return runs.stream().map(r -> r.cfg("dataset")).distinct().toList();
  }

  /** Every verdict of a sweep, by its figure kind. */
  static List<Verdict> verdicts(ResultSet rs) {
    return switch (rs.figure()) {
      case "size" -> size(rs);
      case "rescaling" -> rescaling(rs);
      case "compare" -> compare(rs);
      case "rnn" -> rnn(rs);
      default -> List.of();
    };
  }

  /**
   * Runs split by setting: by every key that varies among runs with equal values of the keys in {@code compared}
   * (seeds aside, {@link ResultSet#varying}); each group's label is ", key value, ..." ("" for one setting), in
   * first-seen order.
   */
  static Map<String, List<Run>> settings(List<Run> runs, java.util.Set<String> compared) {
    // a key that varies only with the compared ones (a preset's step size per optimizer) is part of what is compared;
    // one that varies among runs with equal compared keys (a user's lr grid, two architectures) makes settings
    List<String> keys = ResultSet.varying(runs).stream().filter(k -> !compared.contains(k)).filter(k -> {
      Map<String, java.util.Set<String>> values = new java.util.HashMap<>();
      for (Run r : runs) {
        String group = compared.stream().sorted().map(r::cfg).collect(java.util.stream.Collectors.joining("|"));
        values.computeIfAbsent(group, x -> new java.util.HashSet<>()).add(r.cfg(k));
      }
      return values.values().stream().anyMatch(v -> v.size() > 1);
    }).toList();
    Map<String, List<Run>> out = new LinkedHashMap<>();
    for (Run r : runs) {
      StringBuilder label = new StringBuilder();
      keys.forEach(k -> label.append(", ").append(k).append(' ').append(r.cfg(k)));
      out.computeIfAbsent(label.toString(), x -> new ArrayList<>()).add(r);
    }
    return out;
  }

  /**
   * Why a sweep's report has no verdict, in one line; null when it has one. A sweep whose figure states no claim of the
   * chapter (figure {@code runs}, a user's sweep that names none) has none by design.
   */
  static String whyNoVerdict(ResultSet rs) {
    if (!verdicts(rs).isEmpty()) {
      return null;
    }
    String fig = rs.figure();
    if (!List.of("size", "rescaling", "compare", "rnn").contains(fig)) {
      return "figure '" + fig + "' states no claim of the chapter, so there is no verdict to give (figure: size, "
          + "rescaling or compare in the sweep file gives them)";
    }
    List<Run> fin = rs.finished();
    if (fin.isEmpty()) {
      return "no run finished (" + rs.all().size() + " recorded)";
    }
    String phase = fig.equals("compare") || fig.equals("rnn") ? "final" : "main";
    if (rs.phase(phase).isEmpty()) {
      return "figure '" + fig + "' measures the " + phase + " runs, and none of the " + fin.size() + " finished runs "
          + "is one (their phases: " + fin.stream().map(Run::phase).distinct().sorted().toList() + ")";
    }
    List<Run> runs = rs.phase(phase);
    if (fig.equals("rnn")) {
      return "figure 'rnn' compares Path-SGD kappa^(1) with SGD, IRNN (SGD from init irnn) and AdaGrad, and Path-SGD "
          + "kappa^(1) with kappa^(1) + kappa^(2), on an rnn layer; the " + runs.size() + " final runs are "
          + runs.stream().map(Claims::arm).distinct().sorted().toList();
    }
    return "figure '" + fig + "' compares " + (fig.equals("rescaling") ? "sgd and path-sgd" : "path-sgd with sgd and "
        + "adagrad") + " from init balanced and unbalanced; the " + runs.size() + " " + phase + " runs have optimizer "
        + runs.stream().map(r -> r.cfg("optimizer")).distinct().sorted().toList() + " and init " + runs.stream()
        .map(r -> r.cfg("init")).distinct().sorted().toList();
  }

  /** E3/E4: Path-SGD against SGD and against AdaGrad, per data set, init and dropout; and Path-SGD's invariance. */
  static List<Verdict> compare(ResultSet rs) {
    List<Verdict> out = new ArrayList<>();
    List<Run> fin = rs.phase("final");
    java.util.Set<String> compared = rs.sweep().has("step_size") ? java.util.Set.of("dataset", "optimizer", "init",
        "dropout", "lr") : java.util.Set.of("dataset", "optimizer", "init", "dropout");
    for (String ds : datasets(fin)) {
      List<Run> inDs = fin.stream().filter(r -> r.cfg("dataset").equals(ds)).toList();
      for (Map.Entry<String, List<Run>> setting : settings(inDs, compared).entrySet()) {
        List<Run> runs = setting.getValue();
        for (String dropout : runs.stream().map(r -> r.cfg("dropout")).distinct().sorted().toList()) {
          List<Run> d = runs.stream().filter(r -> r.cfg("dropout").equals(dropout)).toList();
          double floor = noiseFloorIn(d, noise(rs, ds), Claims::finalLoss);
          double testFloor = noiseFloorIn(d, noise(rs, ds), Claims::testError);
          String at = (Double.parseDouble(dropout) == 0 ? "no dropout" : "dropout " + dropout) + setting.getKey();
          boolean equalError = d.stream().anyMatch(Claims::hasStopCriterion);
          for (String init : List.of("balanced", "unbalanced")) {
            List<Run> p = of(d, "path-sgd", init);
            for (String[] base : new String[][] {{"sgd", "SGD"}, {"adagrad", "AdaGrad"}}) {
              List<Run> b = of(d, base[0], init);
              if (p.isEmpty() && b.isEmpty()) {
                continue;
              }
              if (equalError) {
                // trained to a training criterion: the final training loss is the criterion, the test error is what
                // the runs are compared on (the abstract's claim)
                out.add(atEqualTrainingError("test error at equal training error: Path-SGD's below " + base[1]
                    + "'s, " + init + " init, " + at, ds, "Path-SGD", p, base[1], b, testFloor));
                continue;
              }
              out.add(lower("Path-SGD's final training loss below " + base[1] + "'s, " + init + " init, " + at, ds,
                  "Path-SGD", p, base[1], b, floor));
              out.add(lower("Path-SGD's test error below " + base[1] + "'s, " + init + " init, " + at, ds,
                  "Path-SGD", p, base[1], b, testFloor, Claims::testError, "test error", "test/error"));
            }
          }
          List<Run> sgdB = of(d, "sgd", "balanced");
          List<Run> sgdU = of(d, "sgd", "unbalanced");
          if (!sgdB.isEmpty() && !sgdU.isEmpty() && !equalError) {
            // E2 at the step size tuned for each start (the rescaling sweep's single eta aside)
            out.add(lower("E2 at the tuned step size: SGD's final training loss from the unbalanced start above the "
                + "balanced start's, " + at, ds, "SGD balanced", sgdB, "SGD unbalanced", sgdU, floor));
          }
          List<Run> pb = of(d, "path-sgd", "balanced");
          List<Run> pu = of(d, "path-sgd", "unbalanced");
          if (!pb.isEmpty() || !pu.isEmpty()) {
            out.add(coincide("Path-SGD balanced and unbalanced coincide, " + at, ds, "Path-SGD balanced", pb,
                "Path-SGD unbalanced", pu, noise(rs, ds)));
          }
        }
      }
    }
    return out;
  }

  /** Whether a run trains to a training criterion (stop_at_zero_train_error, or stop_train_loss above 0). */
  static boolean hasStopCriterion(Run r) {
    return r.config().path("stop_at_zero_train_error").asBoolean(false)
        || r.config().path("stop_train_loss").asDouble(0) > 0;
  }

  /** Whether a run that did not diverge met its training criterion (zero training error, or the loss below the bound). */
  static boolean reached(Run r) {
    double bound = r.config().path("stop_train_loss").asDouble(0);
    return !diverged(r) && (r.config().path("stop_at_zero_train_error").asBoolean(false)
        && r.summary("final", "train_error") == 0 || bound > 0 && finalLoss(r) < bound);
  }

  /** "12, 14, 13" : the epoch each run ended in, in seed order. */
  static String epochsOf(List<Run> runs) {
    return String.join(", ", runs.stream().sorted(Comparator.comparingInt(r -> Integer.parseInt(r.cfg("seed"))))
        .map(r -> r.line().path("summary").path("epochs_completed").asText("?")).toList());
  }

  /**
   * The abstract's claim, "changing the optimizer can improve generalization even if optimization quality is not
   * affected": both sides trained to the same training criterion (zero training error, or the training loss below
   * stop_train_loss, whichever a run reaches first), their test errors compared paired by seed, with the strength of
   * {@link #paired}. A side with a run that did not reach the criterion within the epoch cap is "cannot tell", naming
   * how many; the epochs each run took stand next to the numbers.
   */
  static Verdict atEqualTrainingError(String claim, String dataset, String nameA, List<Run> a, String nameB,
      List<Run> b, double floor) {
    if (a.isEmpty() || b.isEmpty()) {
      return new Verdict(claim, dataset, CANNOT_TELL, "no finished runs of " + (a.isEmpty() ? nameA : nameB));
    }
    List<String> short_ = new ArrayList<>();
    for (Object[] side : new Object[][] {{nameA, a}, {nameB, b}}) {
      @SuppressWarnings("unchecked")
      List<Run> runs = (List<Run>) side[1];
      List<Run> not = runs.stream().filter(r -> !diverged(r) && !reached(r)).toList();
      if (!not.isEmpty()) {
        short_.add(String.format(Locale.ROOT, "%s did not reach the training criterion on %d of %d seeds within the "
            + "epoch cap (%d epochs; training error %s, training loss %s at the end, mean)", side[0], not.size(),
            runs.size(), not.get(0).config().path("epochs").asInt(), g(mean(not.stream().map(r -> r.summary("final",
            "train_error")).toList())), g(mean(not.stream().map(Claims::finalLoss).toList()))));
      }
    }
    String epochs = "; epochs trained (by seed; the criterion or the cap): " + nameA + " " + epochsOf(a) + ", " + nameB + " "
        + epochsOf(b);
    Verdict v = lower(claim, dataset, nameA, a, nameB, b, floor, Claims::testError, "test error", "");
    if (!short_.isEmpty() && !v.numbers().contains("diverged")) {
      return new Verdict(claim, dataset, CANNOT_TELL, String.join("; ", short_) + ": not at equal training error; "
          + v.numbers() + epochs);
    }
    return new Verdict(claim, dataset, v.verdict(), v.numbers() + epochs, v.strength());
  }

  /** E2: SGD slower from the unbalanced start; Path-SGD's two curves coincide. */
  static List<Verdict> rescaling(ResultSet rs) {
    List<Verdict> out = new ArrayList<>();
    List<Run> main = rs.phase("main");
    for (String ds : datasets(main)) {
      double floor = noiseFloor(rs, ds, Claims::finalLoss);
      List<Run> inDs = main.stream().filter(r -> r.cfg("dataset").equals(ds)).toList();
      for (Map.Entry<String, List<Run>> setting : settings(inDs, java.util.Set.of("dataset", "optimizer", "init"))
          .entrySet()) {
        List<Run> runs = setting.getValue();
        String at = setting.getKey();
        List<Run> sb = of(runs, "sgd", "balanced");
        List<Run> su = of(runs, "sgd", "unbalanced");
        if (!sb.isEmpty() || !su.isEmpty()) {
          out.add(lower("SGD slower from the unbalanced start (final training loss above the balanced start's)" + at,
              ds, "SGD balanced", sb, "SGD unbalanced", su, floor));
        }
        List<Run> pb = of(runs, "path-sgd", "balanced");
        List<Run> pu = of(runs, "path-sgd", "unbalanced");
        if (!pb.isEmpty() || !pu.isEmpty()) {
          out.add(coincide("Path-SGD balanced and unbalanced coincide" + at, ds, "Path-SGD balanced", pb,
              "Path-SGD unbalanced", pu, noise(rs, ds)));
        }
      }
    }
    return out;
  }

  /** A curve's final-epoch value, NaN when the run has none. */
  static double finalOf(Run r, String curve) {
    TreeMap<Integer, Double> c = r.curve(curve);
    return c.isEmpty() ? Double.NaN : c.lastEntry().getValue();
  }

  /** Whether the values rise strictly or fall strictly (in the order given). */
  static boolean strictlyMonotone(double[] x) {
    boolean up = true;
    boolean down = true;
    for (int i = 1; i < x.length; i++) {
      up &= x[i] > x[i - 1];
      down &= x[i] < x[i - 1];
    }
    return x.length >= 2 && (up || down);
  }

  /** Spearman's rank correlation (average ranks for ties); NaN for fewer than 3 points or a constant side. */
  /**
   * The 5% one-sided critical value of Spearman's ρ over n points when there is no association, by the normal
   * approximation ρ·√(n − 1) ~ N(0, 1): 1.645 / √(n − 1) (0.950 for 4 points, 0.497 for 12).
   */
  static double spearmanCritical(int n) {
    return 1.6448536269514722 / Math.sqrt(n - 1);
  }

  static double spearman(double[] x, double[] y) {
    if (x.length < 3) {
      return Double.NaN;
    }
    double[] rx = ranks(x);
    double[] ry = ranks(y);
    double mx = mean(java.util.Arrays.stream(rx).boxed().toList());
    double my = mean(java.util.Arrays.stream(ry).boxed().toList());
    double sxy = 0;
    double sxx = 0;
    double syy = 0;
    for (int i = 0; i < x.length; i++) {
      sxy += (rx[i] - mx) * (ry[i] - my);
      sxx += (rx[i] - mx) * (rx[i] - mx);
      syy += (ry[i] - my) * (ry[i] - my);
    }
    return sxx == 0 || syy == 0 ? Double.NaN : sxy / Math.sqrt(sxx * syy);
  }

  static double[] ranks(double[] v) {
    Integer[] idx = new Integer[v.length];
    for (int i = 0; i < v.length; i++) {
      idx[i] = i;
    }
    java.util.Arrays.sort(idx, Comparator.comparingDouble(i -> v[i]));
    double[] r = new double[v.length];
    for (int i = 0; i < v.length;) {
      int j = i;
      while (j + 1 < v.length && v[idx[j + 1]] == v[idx[i]]) {
        j++;
      }
      for (int k = i; k <= j; k++) {
        r[idx[k]] = (i + j) / 2.0 + 1;
      }
      i = j + 1;
    }
    return r;
  }

  /**
   * E1: the test error at the largest H against the test error at the smallest H whose training error is 0 on every
   * seed (the claim: no rise past interpolation), and which measure tracks test error across H (Spearman's ρ of each
   * measure's mean over seeds with the mean test error; holds when a norm tracks it better than the size H does).
   */
  static List<Verdict> size(ResultSet rs) {
    List<Verdict> out = new ArrayList<>();
    List<Run> main = rs.phase("main");
    for (String ds : datasets(main)) {
      TreeMap<Integer, List<Run>> byH = new TreeMap<>();
      for (Run r : main) {
        if (r.cfg("dataset").equals(ds)) {
          byH.computeIfAbsent(r.config().path("hidden").path(0).asInt(), k -> new ArrayList<>()).add(r);
        }
      }
      double floor = noiseFloor(rs, ds, Claims::testError);
      String claim = "test error at the largest H not above the test error where training error first reaches 0";
      Integer h0 = null;
      for (Map.Entry<Integer, List<Run>> e : byH.entrySet()) {
        if (e.getValue().stream().noneMatch(Claims::diverged)
            && e.getValue().stream().allMatch(r -> r.summary("final", "train_error") == 0)) {
          h0 = e.getKey();
          break;
        }
      }
      int hMax = byH.lastKey();
      String divMax = divergence("H=" + hMax, byH.get(hMax));
      if (h0 == null) {
        out.add(new Verdict(claim, ds, CANNOT_TELL, String.format(Locale.ROOT, "training error never reached 0 on "
            + "every seed (at H=%d: %s)", hMax, g(mean(byH.get(hMax).stream().map(r -> r.summary("final",
            "train_error")).toList())))));
      } else if (divMax != null) {
        out.add(new Verdict(claim, ds, CANNOT_TELL, divMax));
      } else {
        List<Double> t0 = byH.get(h0).stream().map(Claims::testError).toList();
        List<Double> tm = byH.get(hMax).stream().map(Claims::testError).toList();
        double d = mean(t0) - mean(tm);
        double sp = Math.max(spread(t0), spread(tm));
        double margin = Math.max(sp, Double.isNaN(floor) ? 0 : floor);
        boolean known = marginEstimated(t0.size(), tm.size(), floor);
        String v = h0 == hMax || !known ? CANNOT_TELL : d > margin ? HOLDS : -d > margin ? DOES_NOT_HOLD : CANNOT_TELL;
        out.add(new Verdict(claim, ds, v, String.format(Locale.ROOT, "test error %s at H=%d (training error first 0) "
            + "and %s at H=%d (largest), difference %s; seed spread %s, noise floor %s%s", g(mean(t0)), h0,
            g(mean(tm)), hMax, g(d), g(sp), Double.isNaN(floor) ? "not measured" : g(floor),
            h0 == hMax ? "; the largest H is the first with zero training error: nothing past it to compare"
                : known ? "" : NO_MARGIN)));
      }
      List<Integer> hs = new ArrayList<>();
      for (Map.Entry<Integer, List<Run>> e : byH.entrySet()) {
        if (e.getValue().stream().noneMatch(Claims::diverged)) {
          hs.add(e.getKey());
        }
      }
      double[] te = new double[hs.size()];
      for (int i = 0; i < hs.size(); i++) {
        te[i] = mean(byH.get(hs.get(i)).stream().map(Claims::testError).toList());
      }
      // no U-curve: the largest H's test error against the lowest over H, whether or not training error reaches 0
      String claimU = "no U-curve: test error at the largest H within the noise of the lowest test error over H";
      if (divMax != null || hs.size() < 2) {
        out.add(new Verdict(claimU, ds, CANNOT_TELL, divMax != null ? divMax : "fewer than 2 sizes without a "
            + "diverged run"));
      } else {
        int iMin = 0;
        for (int i = 1; i < te.length; i++) {
          iMin = te[i] < te[iMin] ? i : iMin;
        }
        int hLow = hs.get(iMin);
        double d = te[te.length - 1] - te[iMin];
        double sp = Math.max(spread(byH.get(hLow).stream().map(Claims::testError).toList()),
            spread(byH.get(hMax).stream().map(Claims::testError).toList()));
        double margin = Math.max(sp, Double.isNaN(floor) ? 0 : floor);
        // the largest H being the lowest holds whatever the margin; a positive difference needs a margin to judge
        boolean known = d <= 0 || marginEstimated(byH.get(hLow).size(), byH.get(hMax).size(), floor);
        out.add(new Verdict(claimU, ds, !known ? CANNOT_TELL : d > margin ? DOES_NOT_HOLD : HOLDS,
            String.format(Locale.ROOT,
                "test error %s at H=%d (largest), lowest %s at H=%d, difference %s; seed spread %s, noise floor %s",
                g(te[te.length - 1]), hMax, g(te[iMin]), hLow, g(d), g(sp),
                Double.isNaN(floor) ? "not measured" : g(floor)) + (known ? "" : NO_MARGIN)));
      }
      // which measure tracks test error across H: every recorded model measure, and H itself
      List<String> measures = new ArrayList<>();
      measures.add(null);
      byH.values().stream().flatMap(List::stream).flatMap(r -> r.curves().keySet().stream())
          .filter(k -> k.startsWith("model/")).distinct().sorted().forEach(measures::add);
      Map<String, Double> rho = new LinkedHashMap<>();
      Map<String, Boolean> monotone = new LinkedHashMap<>();
      Map<String, double[]> within = new LinkedHashMap<>();
      for (String key : measures) {
        String name = key == null ? "size H" : key.substring("model/".length());
        double[] x = new double[hs.size()];
        boolean present = true;
        double sum = 0;
        int sizes = 0;
        for (int i = 0; i < hs.size(); i++) {
          List<Run> at = byH.get(hs.get(i));
          x[i] = key == null ? hs.get(i) : mean(at.stream().map(r -> finalOf(r, key)).toList());
          present &= Double.isFinite(x[i]);
          if (key != null) {
            // within H: the measure against test error over the runs at this H (seeds, other settings)
            double w = spearman(at.stream().mapToDouble(r -> finalOf(r, key)).toArray(),
                at.stream().mapToDouble(Claims::testError).toArray());
            if (!Double.isNaN(w)) {
              sum += w;
              sizes++;
            }
          }
        }
        if (present) {
          rho.put(name, spearman(x, te));
          monotone.put(name, strictlyMonotone(x));
          if (sizes > 0) {
            within.put(name, new double[] {sum / sizes, sizes});
          }
        }
      }
      String claim2 = "a norm, not the size H, tracks test error across H (Spearman rank correlation)";
      StringBuilder s = new StringBuilder();
      rho.forEach((k, v) -> s.append(k).append(" ρ = ").append(g(v)).append(monotone.get(k) ? " (monotone in H)"
          : "").append(within.containsKey(k) ? String.format(Locale.ROOT, ", within H %s (mean over %d sizes)",
          g(within.get(k)[0]), (int) within.get(k)[1]) : "").append("; "));
      List<String> norms = rho.keySet().stream().filter(k -> !k.equals("size H")).toList();
      if (norms.isEmpty() || !rho.containsKey("size H") || rho.values().stream().anyMatch(x -> x.isNaN())) {
        out.add(new Verdict(claim2, ds, CANNOT_TELL, s + (norms.isEmpty() ? "no norm metrics (split model) in "
            + "metrics.csv" : "fewer than 3 sizes, or a constant measure")));
      } else if (norms.stream().allMatch(monotone::get)) {
        out.add(new Verdict(claim2, ds, CANNOT_TELL, "every measure is monotone in H, so across H each ranks test "
            + "error exactly as H or 1/H does (|ρ| = |ρ of H|): " + s + "a norm is told from size only within H "
            + "or by runs that change the norm at fixed H (over " + hs.size() + " sizes, means over seeds, final "
            + "epoch)"));
      } else {
        String best = norms.stream().max(Comparator.comparingDouble(rho::get)).orElseThrow();
        double r = rho.get(best);
        double rh = Math.abs(rho.get("size H"));
        double critical = spearmanCritical(hs.size());
        double[] w = within.get(best);
        String v;
        String why;
        if (r <= 0) {
          v = DOES_NOT_HOLD;
          why = "no measure rises with test error (the largest ρ, " + best + "'s, is not above 0)";
        } else if (r < critical) {
          v = CANNOT_TELL;
          why = "tracks best: " + best + String.format(Locale.ROOT, ", but ρ is below %s, the 5%% one-sided critical "
              + "value with no association", g(critical));
        } else if (monotone.get(best)) {
          v = CANNOT_TELL;
          why = "tracks best: " + best + ", which is monotone in H: across H it cannot be told from size";
        } else if (r <= rh) {
          v = CANNOT_TELL;
          why = "tracks best: " + best + String.format(Locale.ROOT, ", but H (or 1/H) ranks test error as well "
              + "(|ρ| = %s)", g(rh));
        } else if (w != null && w[0] <= 0) {
          v = CANNOT_TELL;
          why = "tracks best across H: " + best + ", but within H it does not rank test error (mean ρ "
              + g(w[0]) + ")";
        } else {
          v = HOLDS;
          why = "tracks best: " + best + ", not monotone in H, above |ρ| of H" + (w == null ? "" : " and ranking "
              + "test error within H");
        }
        out.add(new Verdict(claim2, ds, v, s + why + " (over " + hs.size() + " sizes, means over seeds, final epoch)"));
      }
    }
    return out;
  }

  // ---- issue 25: ReLU RNNs (figure rnn: presets rnn-adding and rnn-seqmnist) ----

  /**
   * The adding problem counts as solved by a run when its final test MSE is below this fraction of the test split's
   * baseline MSE (predicting the constant 1, about 1/6): this project's criterion (docs/rnn.md), not a figure from the
   * papers, which report curves.
   */
  static final double SOLVED_FRACTION = 0.1;

  /** The arm of an rnn run: Path-SGD κ^(1), Path-SGD κ^(1)+κ^(2), SGD (random init), IRNN (SGD from init irnn), AdaGrad. */
  static String arm(Run r) {
    String opt = r.cfg("optimizer");
    boolean k2 = r.cfg("layers").contains(",kappa2)");
    boolean irnn = r.cfg("init").equals("irnn");
    return switch (opt) {
      case "path-sgd" -> (k2 ? "Path-SGD κ^(1)+κ^(2)" : "Path-SGD κ^(1)") + (irnn ? " (irnn init)" : "");
      case "sgd" -> irnn ? "IRNN" : "SGD";
      case "adagrad" -> "AdaGrad" + (irnn ? " (irnn init)" : "");
      default -> opt + (irnn ? " (irnn init)" : "");
    };
  }

  /** The final test MSE over the test split's baseline MSE (summary.json's regression entry); NaN where missing. */
  static double relativeTestMse(Run r) {
    JsonNode b = r.line().path("summary").path("regression").path("baseline_mse").path("test");
    double base = b.isNumber() ? b.asDouble() : Double.NaN;
    return r.summary("final", "test_loss") / base;
  }

  static boolean regression(Run r) {
    return r.line().path("summary").has("regression");
  }

  /** Whether a run solved the adding problem: not diverged, and its relative test MSE below {@link #SOLVED_FRACTION}. */
  static boolean solved(Run r) {
    return !diverged(r) && relativeTestMse(r) < SOLVED_FRACTION;
  }

  /**
   * The verdicts of the rnn presets, per data set: on a regression set (the adding problem), "Path-SGD κ^(1) solves
   * it and X does not" against every baseline X (SGD, IRNN, AdaGrad), and "κ^(2) changes little" on the relative test
   * MSE; on a classification set (sequential MNIST), "Path-SGD κ^(1)'s test error below X's at equal epochs" against
   * every baseline, and "κ^(2) changes little" on the test error.
   */
  static List<Verdict> rnn(ResultSet rs) {
    List<Verdict> out = new ArrayList<>();
    List<Run> fin = rs.phase("final");
    for (String ds : datasets(fin)) {
      List<Run> inDs = fin.stream().filter(r -> r.cfg("dataset").equals(ds)).toList();
      Map<String, List<Run>> arms = new LinkedHashMap<>();
      for (Run r : inDs) {
        arms.computeIfAbsent(arm(r), k -> new ArrayList<>()).add(r);
      }
      List<Run> p1 = arms.getOrDefault("Path-SGD κ^(1)", List.of());
      List<Run> p2 = arms.getOrDefault("Path-SGD κ^(1)+κ^(2)", List.of());
      boolean reg = inDs.stream().anyMatch(Claims::regression);
      for (String base : List.of("SGD", "IRNN", "AdaGrad")) {
        List<Run> b = arms.getOrDefault(base, List.of());
        if (reg) {
          out.add(solves("Path-SGD κ^(1) solves the adding problem and " + base + " does not", ds, "Path-SGD κ^(1)",
              p1, base, b));
        } else {
          out.add(atEqualEpochs("Path-SGD κ^(1)'s test error below " + base + "'s at equal epochs", ds,
              "Path-SGD κ^(1)", p1, base, b));
        }
      }
      out.add(changesLittle("κ^(2) changes little: Path-SGD κ^(1)+κ^(2) vs κ^(1), " + (reg ? "test MSE / baseline"
          : "test error"), ds, p1, p2, reg ? Claims::relativeTestMse : Claims::testError));
    }
    return out;
  }

  /**
   * "a solves the adding problem and b does not": holds when every run of a solved it ({@link #solved}), no run of b
   * did, and a's relative test MSE is lower paired by seed ({@link #lower}; with a diverged run, which counts as not
   * solved, the counts alone decide and the strength is thin); does not hold when a solved it on no seed, b on every
   * seed, or b's relative MSE is lower; else cannot tell.
   */
  static Verdict solves(String claim, String dataset, String nameA, List<Run> a, String nameB, List<Run> b) {
    if (a.isEmpty() || b.isEmpty()) {
      return new Verdict(claim, dataset, CANNOT_TELL, "no finished runs of " + (a.isEmpty() ? nameA : nameB));
    }
    long sa = a.stream().filter(Claims::solved).count();
    long sb = b.stream().filter(Claims::solved).count();
    boolean div = a.stream().anyMatch(Claims::diverged) || b.stream().anyMatch(Claims::diverged);
    Verdict cmp = lower(claim, dataset, nameA, a, nameB, b, Double.NaN, Claims::relativeTestMse, "test MSE / "
        + "baseline", "test/loss");
    String counts = String.format(Locale.ROOT, "solved (final test MSE below %s of the baseline MSE of predicting 1): "
        + "%s on %d of %d seeds, %s on %d of %d%s; ", g(SOLVED_FRACTION), nameA, sa, a.size(), nameB, sb, b.size(),
        div ? " (a diverged run counts as not solved)" : "");
    String v;
    String strength = "";
    if (sa == 0 || sb == b.size() || cmp.verdict().equals(DOES_NOT_HOLD)) {
      v = DOES_NOT_HOLD;
      strength = cmp.verdict().equals(DOES_NOT_HOLD) ? cmp.strength() : "";
    } else if (sa == a.size() && sb == 0 && (cmp.verdict().equals(HOLDS) || div)) {
      v = HOLDS;
      strength = cmp.verdict().equals(HOLDS) ? cmp.strength() : "thin";
    } else {
      v = CANNOT_TELL;
    }
    return new Verdict(claim, dataset, v, counts + cmp.numbers(), strength);
  }

  /**
   * {@link #lower} on the test error, when every run of both sides trained the same number of epochs; a side that
   * stopped early (another epoch count) is cannot tell, naming the epochs.
   */
  static Verdict atEqualEpochs(String claim, String dataset, String nameA, List<Run> a, String nameB, List<Run> b) {
    Verdict v = lower(claim, dataset, nameA, a, nameB, b, Double.NaN, Claims::testError, "test error", "test/error");
    List<Run> all = new ArrayList<>(a);
    all.addAll(b);
    long epochs = all.stream().filter(r -> !diverged(r)).map(r -> r.line().path("summary").path("epochs_completed")
        .asInt()).distinct().count();
    if (epochs > 1 && !v.verdict().equals(CANNOT_TELL)) {
      return new Verdict(claim, dataset, CANNOT_TELL, "not at equal epochs (epochs by seed: " + nameA + " "
          + epochsOf(a) + ", " + nameB + " " + epochsOf(b) + "); " + v.numbers());
    }
    return v;
  }

  /**
   * "κ^(2) changes little": the runs of κ^(1) and κ^(1) + κ^(2) paired by seed, d = q(κ^(1)+κ^(2)) − q(κ^(1)); holds
   * when every |d| is within the seed spread of the κ^(1) runs (κ^(2) moves a seed less than the seeds differ) and the
   * paired t-test finds no difference either way (one-sided p ≥ {@link #ALPHA} both ways); does not hold when it finds
   * one (p &lt; ALPHA) and |mean d| exceeds that spread; else cannot tell, as with fewer than 2 pairs or a diverged
   * run. Strength: holds clear when every |d| is within half the spread; does not hold clear when p &lt; 0.01 and
   * every seed moves the same way.
   */
  static Verdict changesLittle(String claim, String dataset, List<Run> p1, List<Run> p2,
      java.util.function.Function<Run, Double> quantity) {
    String a = "Path-SGD κ^(1)";
    String b = "Path-SGD κ^(1)+κ^(2)";
    if (p1.isEmpty() || p2.isEmpty()) {
      return new Verdict(claim, dataset, CANNOT_TELL, "no finished runs of " + (p1.isEmpty() ? a : b));
    }
    String div = Objects.requireNonNullElse(divergence(a, p1), "");
    String divB = divergence(b, p2);
    if (!div.isEmpty() || divB != null) {
      return new Verdict(claim, dataset, CANNOT_TELL, (div.isEmpty() ? divB : divB == null ? div : div + "; " + divB)
          + ": a diverged run is neither a little nor a large change");
    }
    List<Run[]> pairs = pairs(p1, p2);
    List<Double> q1 = p1.stream().map(quantity).toList();
    double spread = spread(q1);
    if (pairs.size() < 2) {
      return new Verdict(claim, dataset, CANNOT_TELL, String.format(Locale.ROOT, "%s %s vs %s %s; fewer than 2 seeds "
          + "paired, so the seed spread cannot be measured: run with --seeds 3", a, g(mean(q1)), b, g(mean(p2.stream()
          .map(quantity).toList()))));
    }
    int n = pairs.size();
    double[] d = new double[n];
    double[] neg = new double[n];
    double maxAbs = 0;
    int up = 0;
    int down = 0;
    for (int i = 0; i < n; i++) {
      d[i] = quantity.apply(pairs.get(i)[1]) - quantity.apply(pairs.get(i)[0]);
      neg[i] = -d[i];
      maxAbs = Math.max(maxAbs, Math.abs(d[i]));
      up += d[i] > 0 ? 1 : 0;
      down += d[i] < 0 ? 1 : 0;
    }
    double md = java.util.Arrays.stream(d).average().orElse(Double.NaN);
    double pUp = Stats.pairedUpper(d);
    double pDown = Stats.pairedUpper(neg);
    double pMin = Math.min(Double.isNaN(pUp) ? 1 : pUp, Double.isNaN(pDown) ? 1 : pDown);
    String v;
    String strength = "";
    if (pMin < ALPHA && Math.abs(md) > spread) {
      v = DOES_NOT_HOLD;
      strength = pMin < 0.01 && (up == n || down == n) ? "clear" : "thin";
    } else if (pMin >= ALPHA && maxAbs <= spread) {
      v = HOLDS;
      strength = maxAbs <= spread / 2 ? "clear" : "thin";
    } else {
      v = CANNOT_TELL;
    }
    String nums = String.format(Locale.ROOT, "%s %s vs %s %s (mean of %d seeds each); paired by seed: difference "
        + "(κ^(1)+κ^(2) − κ^(1)) mean %s, largest |difference| %s, higher on %d and lower on %d of %d seeds, "
        + "one-sided paired t-test p = %s (the smaller direction); seed spread of κ^(1) %s", a, g(mean(q1)), b,
        g(mean(p2.stream().map(quantity).toList())), p1.size(), g(md), g(maxAbs), up, down, n, p(pMin), g(spread));
    return new Verdict(claim, dataset, v, nums, strength);
  }
}
