package io.github.pathsgd.experiments.sweep;

import io.github.pathsgd.experiments.config.Components;
import io.github.pathsgd.experiments.config.ConfigException;
import io.github.pathsgd.experiments.config.ConfigHash;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.config.TrainConfig;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The plan of a sweep: the runs each phase trains, from what the sweep file says ({@link SweepSpec}). The first phase
 * ({@link #expand}: the main runs, or the select runs of a step-size selection, with successive halving its first
 * rung's), the retraining runs of a decided selection ({@link #finals}), the noise-floor runs after the complete plan
 * ({@link #noiseRunsAfter}). An instance binds a sweep, a scale and a seed count to the settings of one invocation
 * that are not part of a run id (the data folder, the BLAS threads of each run), so every engine ({@link SweepDriver}
 * with the embedded runner's or pathsgd-spark's executor, {@code experiments merge}) plans the same runs, numbered
 * the same way.
 */
public final class SweepPlan {
  private final SweepSpec spec;
  private final String scale;
  private final int seeds;
  private final Path dataDir;
  private final int threads;

  /**
   * @param dataDir the data folder for every run (null = the config's)
   * @param threads BLAS threads per run (0 = as the config says); never applied to a run that pins its count
   *     ({@code pin_threads}: the count is part of its run id)
   */
  public SweepPlan(SweepSpec spec, String scale, int seeds, Path dataDir, int threads) {
    spec.scale(scale); // an unknown scale: refused by name
    this.spec = spec;
    this.scale = scale;
    this.seeds = seeds;
    this.dataDir = dataDir;
    this.threads = threads;
  }

  public SweepSpec spec() {
    return spec;
  }

  public String scale() {
    return scale;
  }

  public int seeds() {
    return seeds;
  }

  /** The scale's step-size selection, or null. */
  public SweepSpec.StepSize stepSize() {
    return spec.stepSize(scale);
  }

  /** The first phase's runs, in expansion order, with this invocation's settings ({@link #expand}). */
  public List<SweepRun> first() {
    return adapted(expand(spec, scale, seeds));
  }

  /**
   * The select runs of {@code sel} followed by its retraining ("final") runs, numbered after the select runs ({@link
   * Selection#selectRuns}: the first phase's, and with successive halving every later rung's).
   */
  public List<SweepRun> withFinals(List<SweepRun> selects, Selection sel) {
    List<SweepRun> both = new ArrayList<>(selects);
    both.addAll(adapted(finals(sel.chosenRuns(), seeds, selects.size())));
    return both;
  }

  /**
   * The complete plan followed by its noise-floor runs ({@link #noiseRunsAfter}), if any: unchanged when it holds them
   * already or the scale has none.
   */
  public List<SweepRun> withNoise(List<SweepRun> planned) {
    List<SweepRun> out = new ArrayList<>(planned);
    out.addAll(adapted(noiseRunsAfter(spec, scale, planned)));
    return out;
  }

  private List<SweepRun> adapted(List<SweepRun> runs) {
    List<SweepRun> out = new ArrayList<>();
    for (SweepRun r : runs) {
      TrainConfig c = r.config();
      if (dataDir != null) {
        c = with(c, "data_dir", dataDir.toString());
      }
      if (threads > 0 && !Boolean.TRUE.equals(c.pinThreads())) { // a pinned count is part of the run id
        c = with(c, "threads", threads);
      }
      out.add(new SweepRun(r.index(), r.phase(), r.runId(), c, r.alpha()));
    }
    return out;
  }

  /**
   * The runs of a scale: the "main" runs (or, with a step-size selection, the "select" runs on the validation split),
   * each repeated for seeds seed..seed+K-1. With a step-size selection only the base seed is used to select;
   * all K seeds are used when retraining ({@link #finals}).
   */
  public static List<SweepRun> expand(SweepSpec spec, String scale, int seeds) {
    if (seeds < 1) {
      throw new ConfigException("seeds", "expected >= 1, got " + seeds);
    }
    spec.checkPlanned(scale, seeds, "sweep " + spec.name());
    SweepSpec.StepSize st = spec.stepSize(scale);
    List<Map<String, Object>> points = cartesian(spec.mergedGrid(scale));
    Map<String, Map<String, Object>> over = spec.mergedOverrides(scale);
    Map<String, Map<String, Object>> optOver = spec.mergedOptimizerOverrides(scale);
    List<SweepRun> out = new ArrayList<>();
    Set<String> seen = new LinkedHashSet<>();
    for (Map<String, Object> point : points) {
      Map<String, Object> m = new LinkedHashMap<>(spec.mergedBase(scale));
      m.putAll(point);
      Object ds = m.get("dataset");
      String dsName = ds == null ? null : TrainConfig.datasetName(ds.toString()); // MNIST is mnist's overrides
      if (dsName != null && over.containsKey(dsName)) {
        m.putAll(over.get(dsName));
      }
      Object optName = m.get("optimizer");
      if (optName != null && optOver.containsKey(optName.toString())) {
        m.putAll(optOver.get(optName.toString()));
      }
      List<Integer> alphas = st == null ? java.util.Collections.singletonList(null) : st.alphas();
      for (Integer alpha : alphas) {
        Map<String, Object> ma = new LinkedHashMap<>(m);
        if (alpha != null) {
          ma.put("lr", lrOf(alpha));
        }
        // an init_model: its widths and content (the run id hashes them) from the file
        TrainConfig c0 = Components.bindInitModel(Configs.fromMap(ma, TrainConfig.class)).resolve();
        if (st != null && st.halving()) {
          c0 = with(c0, "epochs", SweepSpec.halvingPlan(st, c0.epochs(), scale).budgets().get(0)); // rung 0
        }
        int k = st == null ? seeds : 1;
        for (int i = 0; i < k; i++) {
          TrainConfig c = withSeed(c0, c0.seed() + i);
          String id = ConfigHash.runId(c);
          if (seen.add(id)) {
            out.add(new SweepRun(out.size(), st == null ? SweepRun.MAIN : SweepRun.SELECT, id, c, alpha));
          }
        }
      }
    }
    return out;
  }

  /**
   * The noise-floor runs (phase "noise") for the last phase's runs {@code source}, numbered from {@code first}: per
   * data set (and value of the noise floor's {@code per} keys), the first source run matching the noise floor's {@code
   * where} with the base seed, once per thread count,
   * with {@code pin_threads: true}. Empty when the scale has no noise floor.
   */
  public static List<SweepRun> noiseRuns(SweepSpec spec, String scale, List<SweepRun> source, int first) {
    SweepSpec.NoiseFloor nf = spec.noiseFloor(scale);
    List<SweepRun> out = new ArrayList<>();
    if (nf == null || nf.threads() == null) {
      return out;
    }
    Set<String> datasets = new LinkedHashSet<>();
    long baseSeed = source.isEmpty() ? 0 : source.get(0).config().seed();
    for (SweepRun r : source) {
      Map<String, Object> cm = Configs.toMap(r.config());
      boolean match = r.config().seed() == baseSeed;
      for (Map.Entry<String, Object> e : (nf.where() == null ? Map.<String, Object>of() : nf.where()).entrySet()) {
        match &= same(cm.get(e.getKey()), e.getValue());
      }
      StringBuilder setting = new StringBuilder(r.config().dataset());
      (nf.per() == null ? List.<String>of() : nf.per()).forEach(k -> setting.append('|').append(cm.get(k)));
      if (!match || !datasets.add(setting.toString())) {
        continue;
      }
      for (int t : nf.threads()) {
        Map<String, Object> m = Configs.toMap(r.config());
        m.put("threads", t);
        m.put("pin_threads", true);
        TrainConfig c = Configs.fromMap(m, TrainConfig.class).resolve();
        out.add(new SweepRun(first + out.size(), SweepRun.NOISE, ConfigHash.runId(c), c, r.alpha()));
      }
    }
    return out;
  }

  /**
   * The noise-floor runs planned after the complete plan {@code planned} (every main, select and final run, in plan
   * order), numbered after it: {@link #noiseRuns} of its last phase's runs (the final runs, else the main runs). Empty
   * when {@code planned} holds noise runs already or the scale has no noise floor. The embedded runner and
   * pathsgd-spark both plan the phase this way.
   */
  public static List<SweepRun> noiseRunsAfter(SweepSpec spec, String scale, List<SweepRun> planned) {
    if (planned.stream().anyMatch(r -> r.phase().equals(SweepRun.NOISE))) {
      return List.of();
    }
    List<SweepRun> source = planned.stream().filter(r -> r.phase().equals(SweepRun.FINAL)).toList();
    if (source.isEmpty()) {
      source = planned.stream().filter(r -> r.phase().equals(SweepRun.MAIN)).toList();
    }
    return noiseRuns(spec, scale, source, planned.size());
  }

  /** Config values compared as the YAML would write them (0 and 0.0 are the same dropout; [4096] a hidden list). */
  private static boolean same(Object a, Object b) {
    if (a instanceof Number x && b instanceof Number y) {
      return x.doubleValue() == y.doubleValue();
    }
    if (a instanceof List<?> x && b instanceof List<?> y && x.size() == y.size()) {
      for (int i = 0; i < x.size(); i++) {
        if (!same(x.get(i), y.get(i))) {
          return false;
        }
      }
      return true;
    }
    return String.valueOf(a).equals(String.valueOf(b));
  }

  /** The retraining runs for chosen select runs: no validation split, seeds seed..seed+K-1, indices from {@code first}. */
  public static List<SweepRun> finals(List<SweepRun> chosen, int seeds, int first) {
    List<SweepRun> out = new ArrayList<>();
    Set<String> seen = new LinkedHashSet<>();
    for (SweepRun r : chosen) {
      Map<String, Object> m = Configs.toMap(r.config());
      m.put("validation_size", 0);
      TrainConfig c0 = Configs.fromMap(m, TrainConfig.class).resolve();
      for (int i = 0; i < seeds; i++) {
        TrainConfig c = withSeed(c0, c0.seed() + i);
        String id = ConfigHash.runId(c);
        if (seen.add(id)) {
          out.add(new SweepRun(first + out.size(), SweepRun.FINAL, id, c, r.alpha()));
        }
      }
    }
    return out;
  }

  /** η = 10^-α, parsed from its decimal text so that 10^-1 is exactly 0.1. */
  public static double lrOf(int alpha) {
    return Double.parseDouble("1e" + (-alpha));
  }

  static TrainConfig withSeed(TrainConfig c, long seed) {
    Map<String, Object> m = Configs.toMap(c);
    m.put("seed", seed);
    return Configs.fromMap(m, TrainConfig.class).resolve();
  }

  /** A config with one key changed (the run id is unchanged for keys outside the hash, e.g. data_dir, threads). */
  public static TrainConfig with(TrainConfig c, String key, Object value) {
    Map<String, Object> m = Configs.toMap(c);
    m.put(key, value);
    return Configs.fromMap(m, TrainConfig.class).resolve();
  }

  static List<Map<String, Object>> cartesian(LinkedHashMap<String, List<Object>> grid) {
    List<Map<String, Object>> acc = new ArrayList<>();
    acc.add(new LinkedHashMap<>());
    for (Map.Entry<String, List<Object>> e : grid.entrySet()) {
      List<Map<String, Object>> next = new ArrayList<>();
      for (Map<String, Object> partial : acc) {
        for (Object v : e.getValue()) {
          Map<String, Object> m = new LinkedHashMap<>(partial);
          m.put(e.getKey(), v);
          next.add(m);
        }
      }
      acc = next;
    }
    return acc;
  }
}
