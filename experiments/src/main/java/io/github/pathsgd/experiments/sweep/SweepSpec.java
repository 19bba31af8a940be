package io.github.pathsgd.experiments.sweep;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.pathsgd.data.InputFiles;
import io.github.pathsgd.data.Suggest;
import io.github.pathsgd.experiments.config.ConfigException;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.config.TrainConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An experiment preset: a base {@link TrainConfig}, a grid of values per config key, optional per-dataset overrides, an
 * optional step-size selection, and per-scale overrides ({@code smoke}, {@code quick}, {@code paper}). Loaded strictly:
 * an unknown key anywhere is an error that names the key.
 *
 * <p>Expansion ({@link SweepPlan#expand}) is the cartesian product of the grid in the order the keys are written (the first key
 * varies slowest), then the step-size exponents α (η = 10^-α) when the preset selects the step size, then the seeds
 * (fastest). Runs with equal configs (equal run ids) appear once, at their first position.
 *
 * @param name the preset's name (size, rescaling, compare)
 * @param description one line (optional)
 * @param figure which figure the results make: size, rescaling or compare (the chapter's figures and verdicts), rnn
 *     (issue 25's recurrent presets: every run's curves, and the RNN claims' verdicts), or runs (the default: the
 *     training curves of every run, one series per setting, no verdict)
 * @param claim the chapter's claim, in words, for the report
 * @param base config keys (snake_case) common to every run
 * @param grid per config key, the list of values to sweep
 * @param datasetOverrides per dataset name, config keys applied after the grid (e.g. cifar10's subset size)
 * @param optimizerOverrides per optimizer name, config keys applied after the dataset overrides (e.g. a step size per
 *     optimizer where no selection runs); a step-size selection still sets {@code lr} last
 * @param stepSize the step-size selection, or null for none
 * @param scales per scale name, what to change (optional: a sweep without a {@code scales} block runs the same runs
 *     at every scale; one with a block runs the scales it names)
 * @param noiseFloor the float32 noise floor phase, or null for none
 * @param maxRuns the most runs a scale of the sweep may plan ({@link #plannedRuns}), or null for {@link
 *     #DEFAULT_MAX_RUNS}; {@code experiments run --max-runs N} sets it
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SweepSpec(
    String name,
    String description,
    String figure,
    String claim,
    Map<String, Object> base,
    LinkedHashMap<String, List<Object>> grid,
    Map<String, Map<String, Object>> datasetOverrides,
    Map<String, Map<String, Object>> optimizerOverrides,
    StepSize stepSize,
    LinkedHashMap<String, Scale> scales,
    NoiseFloor noiseFloor,
    Long maxRuns) {

  public static final List<String> SCALES = List.of("smoke", "quick", "medium", "paper");
  /** The scales every preset defines ({@code medium} too); a user's sweep file defines those it uses, or none. */
  public static final List<String> REQUIRED_SCALES = List.of("smoke", "quick", "paper");
  /** The figure kinds: the chapter's three, and {@link #RUNS_FIGURE}. */
  public static final List<String> FIGURES = List.of("size", "rescaling", "compare", "runs", "rnn");
  /** The figure of a sweep that names none: every run's training curves, one series per setting, no verdict. */
  public static final String RUNS_FIGURE = "runs";
  public static final List<String> PRESETS = List.of("size", "rescaling", "compare", "conv", "residual", "equal-error",
      "rnn-adding", "rnn-seqmnist");
  /**
   * The most runs a scale may plan unless the sweep raises it ({@code max_runs}, {@code --max-runs}): a sweep file of a
   * few kB can describe millions of runs, and each planned run is a config in memory before the first one starts.
   */
  public static final long DEFAULT_MAX_RUNS = 10_000;
  /** The scales sized to run in seconds or minutes, whose data must stay bounded whatever the data set. */
  public static final List<String> SMALL_SCALES = List.of("smoke", "quick");

  /**
   * What a scale changes: base keys are merged over the preset's base, grid keys replace (or add) the preset's lists,
   * dataset overrides are merged per dataset, and a step-size block overrides field by field.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Scale(String description, Map<String, Object> base, LinkedHashMap<String, List<Object>> grid,
      Map<String, Map<String, Object>> datasetOverrides, Map<String, Map<String, Object>> optimizerOverrides,
      StepSize stepSize, NoiseFloor noiseFloor) {}

  /**
   * The float32 noise floor: per data set, the first run of the last phase (the final runs of a step-size selection,
   * else the main runs) whose config matches {@code where} and has the base seed is trained again once per thread
   * count in {@code threads}, with {@code pin_threads: true} (so each is its own run, in its own folder). The
   * difference between those runs is what BLAS rounding alone does to a result (phase "noise").
   *
   * @param where config keys (snake_case) and values the source run must have, e.g. optimizer: path-sgd
   * @param threads the BLAS thread counts, e.g. [1, 2]
   * @param per config keys whose every value gets its own noise runs (the first matching run per data set and value
   *     of these keys, e.g. [init, dropout]: a noise floor for each setting), or null for one source per data set
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record NoiseFloor(Map<String, Object> where, List<Integer> threads, List<String> per) {}

  /**
   * Step-size selection (docs/paper-spec.md §5.3): every group (same values of {@code groupBy}) is run for each α with η =
   * 10^-α on the validation split; {@link StepSizeRule} picks one; the pick is retrained without a validation split.
   *
   * @param alphas the exponents α
   * @param tolerance validation-error tolerance as a fraction (0.005 = 0.5 percentage points)
   * @param groupBy config keys that define a group (default dataset, optimizer, init, dropout)
   * @param rule {@code exhaustive} (the default: every α for the full budget) or {@code halving} (successive halving,
   *     {@link SuccessiveHalving}, run rung by rung by {@link SweepRunner})
   * @param budgets halving only: the rungs' epoch budgets, increasing, the last equal to the runs' {@code epochs}
   *     (default ⌈E/4⌉, ⌈E/2⌉, E)
   * @param keep halving only: the fraction of a rung that goes on to the next (default 1/3)
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record StepSize(List<Integer> alphas, Double tolerance, List<String> groupBy, String rule,
      List<Integer> budgets, Double keep) {
    public static final List<String> DEFAULT_GROUP = List.of("dataset", "optimizer", "init", "dropout");
    public static final String EXHAUSTIVE = "exhaustive";
    public static final String HALVING = "halving";

    public StepSize(List<Integer> alphas, Double tolerance, List<String> groupBy) {
      this(alphas, tolerance, groupBy, null, null, null);
    }

    StepSize over(StepSize o) {
      if (o == null) {
        return this;
      }
      return new StepSize(o.alphas != null ? o.alphas : alphas, o.tolerance != null ? o.tolerance : tolerance,
          o.groupBy != null ? o.groupBy : groupBy, o.rule != null ? o.rule : rule,
          o.budgets != null ? o.budgets : budgets, o.keep != null ? o.keep : keep);
    }

    /** True for successive halving. */
    public boolean halving() {
      return HALVING.equals(rule);
    }

    /**
     * The halving plan (null for the exhaustive rule); {@link SweepSpec#stepSize} has filled in the budgets and keep.
     */
    public SuccessiveHalving.Plan plan() {
      return halving() ? new SuccessiveHalving.Plan(budgets, keep) : null;
    }

    /** With the halving defaults filled in for runs of {@code epochs} epochs: budgets ⌈E/4⌉, ⌈E/2⌉, E; keep 1/3. */
    StepSize resolved(int epochs) {
      if (!halving()) {
        return this;
      }
      SuccessiveHalving.Plan d = SuccessiveHalving.Plan.defaults(epochs);
      return new StepSize(alphas, tolerance, groupBy, rule, budgets == null ? d.budgets() : budgets,
          keep == null ? d.keep() : keep);
    }

    public double tol() {
      return tolerance == null ? 0.005 : tolerance;
    }

    public List<String> group() {
      return groupBy == null ? DEFAULT_GROUP : groupBy;
    }
  }

  /** One planned run. */
  public record SweepRun(int index, String phase, String runId, TrainConfig config, Integer alpha) {
    public static final String MAIN = "main";
    public static final String SELECT = "select";
    public static final String FINAL = "final";
    public static final String NOISE = "noise";
  }

  /** The keys a TrainConfig knows (snake_case). */
  public static Set<String> configKeys() {
    return new LinkedHashSet<>(Configs.toMap(TrainConfig.empty()).keySet());
  }

  /** Loads a bundled preset by name. */
  public static SweepSpec load(String name) {
    String res = "/io/github/pathsgd/experiments/presets/" + name + ".yaml";
    try (InputStream in = SweepSpec.class.getResourceAsStream(res)) {
      if (in == null) {
        throw new ConfigException("experiment", "unknown experiment '" + name + "' (known: " + PRESETS + ")");
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "preset " + name + ".yaml");
    } catch (IOException e) {
      throw new ConfigException(res, "cannot read: " + e.getMessage());
    }
  }

  /** The YAML text of a bundled preset, comments included, as {@code pathsgd experiments show} prints it. */
  public static String presetText(String name) {
    String res = "/io/github/pathsgd/experiments/presets/" + name + ".yaml";
    try (InputStream in = SweepSpec.class.getResourceAsStream(res)) {
      if (in == null) {
        throw new ConfigException("experiment", "unknown experiment '" + name + "' (known: " + PRESETS
            + ", or the path of a sweep file)");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException(res, "cannot read: " + e.getMessage());
    }
  }

  /**
   * The text of a sweep: {@code nameOrFile} is a sweep file when a file of that path exists, else a bundled preset's
   * name.
   */
  public static String sourceText(String nameOrFile) {
    Path p = Path.of(nameOrFile);
    if (!Files.exists(p)) {
      return presetText(nameOrFile);
    }
    String problem = InputFiles.problem(p);
    if (problem != null) {
      throw new ConfigException(nameOrFile, "sweep file " + problem);
    }
    try {
      return new String(InputFiles.readBounded(p, Configs.MAX_CONFIG_BYTES, "sweep file"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(nameOrFile, "sweep file has more than the " + Configs.MAX_CONFIG_BYTES
          + " bytes (1 MiB) a sweep file may have");
    } catch (IOException e) {
      throw new ConfigException(nameOrFile, "cannot read the sweep file: " + e.getMessage());
    }
  }

  /**
   * A sweep (a preset name or a sweep file, see {@link #sourceText}) with {@code KEY=VALUE} overrides applied before
   * validation: dotted keys into the YAML tree ({@code base.epochs=3}, {@code grid.dataset=[fashion-mnist]},
   * {@code scales.quick.base.hidden=[256,256]}), values parsed as YAML; a scalar given for a grid key is a list of
   * one. Unknown keys are refused by name with the valid keys listed.
   */
  public static SweepSpec load(String nameOrFile, List<String> sets) {
    return load(nameOrFile, sets, null);
  }

  /**
   * As {@link #load(String, List)}, but only {@code scale}'s runs are planned and resolved to validate it (null: every
   * scale's): what {@code experiments run --scale} needs, so that an override meant for it (such as {@code
   * base.epochs=1}) is not refused for what it does to a scale that is not run (a halving budget of another scale).
   */
  public static SweepSpec load(String nameOrFile, List<String> sets, String scale) {
    String text = sourceText(nameOrFile);
    String source = Files.exists(Path.of(nameOrFile)) ? nameOrFile : "preset " + nameOrFile + ".yaml";
    if (sets == null || sets.isEmpty()) {
      return parse(text, source, scale);
    }
    return parse(applySets(text, sets, source), source + " with --set " + String.join(" --set ", sets), scale);
  }

  /** The sweep text with the overrides applied, as YAML (comments are not kept). */
  public static String applySets(String text, List<String> sets, String source) {
    JsonNode tree = Configs.yamlTree(text, source);
    if (!(tree instanceof ObjectNode root)) {
      throw new ConfigException(source, "expected a mapping of keys at the top level");
    }
    for (String set : sets) {
      applySet(root, set);
    }
    try {
      return Configs.yaml().writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static final List<String> TOP_KEYS = List.of("name", "description", "figure", "claim", "base", "grid",
      "dataset_overrides", "optimizer_overrides", "step_size", "scales", "noise_floor", "max_runs");
  private static final List<String> SCALE_KEYS = List.of("description", "base", "grid", "dataset_overrides",
      "optimizer_overrides", "step_size", "noise_floor");
  private static final List<String> STEP_KEYS = List.of("alphas", "tolerance", "group_by", "rule", "budgets", "keep");

  /** Applies one {@code KEY=VALUE}; the key path is checked against the schema so a typo is refused by name. */
  static void applySet(ObjectNode root, String set) {
    int eq = set.indexOf('=');
    if (eq <= 0) {
      throw new ConfigException("--set", "expected KEY=VALUE (e.g. base.epochs=3), got '" + set + "'");
    }
    String key = set.substring(0, eq).strip();
    String valueText = set.substring(eq + 1);
    String[] parts = key.split("\\.", -1);
    List<String> keys = new ArrayList<>(List.of(parts));
    if (keys.stream().anyMatch(String::isEmpty)) {
      throw new ConfigException(key, "--set key has an empty part; expected dotted keys such as base.epochs");
    }
    // check the path against the schema
    List<String> rest = keys;
    if (rest.get(0).equals("scales")) {
      if (rest.size() < 2 || !SCALES.contains(rest.get(1))) {
        throw new ConfigException(key, "--set: expected scales.<scale>.<key> with a scale of " + SCALES);
      }
      if (rest.size() < 3) {
        throw new ConfigException(key, "--set: expected scales." + rest.get(1) + ".<key> with a key of "
            + SCALE_KEYS);
      }
      rest = rest.subList(2, rest.size());
      checkPart(key, rest, SCALE_KEYS);
    } else {
      checkPart(key, rest, TOP_KEYS);
    }
    JsonNode value = valueText.isBlank() ? NullNode.getInstance()
        : Configs.yamlTree(valueText, "--set " + key + " value '" + valueText + "'");
    if (value == null || value.isMissingNode()) {
      value = NullNode.getInstance();
    }
    if (rest.get(0).equals("grid") && rest.size() == 2 && !value.isArray() && !value.isNull()) {
      ArrayNode a = Configs.yaml().createArrayNode();
      a.add(value);
      value = a;
    }
    ObjectNode at = root;
    for (int i = 0; i < keys.size() - 1; i++) {
      JsonNode next = at.get(keys.get(i));
      if (next == null || next.isNull()) {
        next = at.putObject(keys.get(i));
      } else if (!(next instanceof ObjectNode)) {
        throw new ConfigException(String.join(".", keys.subList(0, i + 1)), "--set " + key + ": "
            + String.join(".", keys.subList(0, i + 1)) + " is not a mapping of keys");
      }
      at = (ObjectNode) next;
    }
    at.set(keys.get(keys.size() - 1), value);
    if (!keys.get(0).equals("scales")) {
      reachEveryScale(root, keys, value);
    }
  }

  /**
   * Makes a top-level {@code --set} the value its runs get at every scale: a scale's own entry at the same place is
   * replaced (a scale's {@code base}, {@code grid}, overrides and step-size fields are merged over the top level's, so
   * they would otherwise shadow the user's value), and {@code base.K} also takes K out of every grid and per-name
   * override, {@code grid.K} out of every per-name override (both are applied after the base, and the overrides after
   * the grid). {@code scales.S....} keys given later still change scale S alone.
   */
  private static void reachEveryScale(ObjectNode root, List<String> keys, JsonNode value) {
    String head = keys.get(0);
    List<ObjectNode> levels = new ArrayList<>(); // the top level, then each scale's block
    levels.add(root);
    if (root.get("scales") instanceof ObjectNode sc) {
      sc.elements().forEachRemaining(n -> {
        if (n instanceof ObjectNode o) {
          levels.add(o);
        }
      });
    }
    List<ObjectNode> scaleLevels = levels.subList(1, levels.size());
    switch (head) {
      case "base", "grid" -> {
        String k = keys.get(1);
        for (ObjectNode l : levels) {
          boolean top = l == root;
          if (!top || head.equals("base")) {
            if (!top && l.get(head) instanceof ObjectNode sec) {
              sec.remove(k);
            }
            if (head.equals("base") && l.get("grid") instanceof ObjectNode g) {
              g.remove(k);
            }
          }
          for (String o : List.of("dataset_overrides", "optimizer_overrides")) {
            if (l.get(o) instanceof ObjectNode byName) {
              byName.elements().forEachRemaining(n -> {
                if (n instanceof ObjectNode m) {
                  m.remove(k);
                }
              });
            }
          }
        }
      }
      case "dataset_overrides", "optimizer_overrides", "step_size" -> {
        for (ObjectNode l : scaleLevels) {
          JsonNode at = l;
          for (int i = 0; i < keys.size() - 1 && at instanceof ObjectNode; i++) {
            at = at.get(keys.get(i));
          }
          if (at instanceof ObjectNode o) {
            o.remove(keys.get(keys.size() - 1));
          }
        }
      }
      case "noise_floor" -> {
        for (ObjectNode l : scaleLevels) {
          if (keys.size() == 1) {
            l.remove("noise_floor");
          } else if (l.get("noise_floor") instanceof ObjectNode nf) {
            nf.set(keys.get(1), value);
          }
        }
      }
      default -> { }
    }
  }

  private static void checkPart(String key, List<String> rest, List<String> allowed) {
    String head = rest.get(0);
    if (!allowed.contains(head)) {
      throw new ConfigException(key, "--set: unknown key '" + head + "' (known keys here: " + allowed + ")");
    }
    Set<String> config = configKeys();
    switch (head) {
      case "base", "grid" -> {
        if (rest.size() != 2) {
          throw new ConfigException(key, "--set: expected " + head + ".<config key>");
        }
        if (!config.contains(rest.get(1))) {
          throw new ConfigException(key, "--set: unknown config key '" + rest.get(1) + "' (known keys: " + config
              + ")");
        }
      }
      case "dataset_overrides", "optimizer_overrides" -> {
        if (rest.size() != 3) {
          throw new ConfigException(key, "--set: expected " + head + ".<name>.<config key>");
        }
        if (!config.contains(rest.get(2))) {
          throw new ConfigException(key, "--set: unknown config key '" + rest.get(2) + "' (known keys: " + config
              + ")");
        }
      }
      case "noise_floor" -> {
        if (rest.size() > 2 || rest.size() == 2 && !List.of("where", "threads", "per").contains(rest.get(1))) {
          throw new ConfigException(key, "--set: expected noise_floor, noise_floor.where, noise_floor.threads or "
              + "noise_floor.per");
        }
      }
      case "step_size" -> {
        if (rest.size() != 2 || !STEP_KEYS.contains(rest.get(1))) {
          throw new ConfigException(key, "--set: expected step_size.<key> with a key of " + STEP_KEYS);
        }
      }
      default -> {
        if (rest.size() != 1) {
          throw new ConfigException(key, "--set: " + head + " takes a value, not keys below it");
        }
      }
    }
  }

  /** Parses and validates a preset text. */
  public static SweepSpec parse(String yaml, String source) {
    return parse(yaml, source, null);
  }

  /** Parses a preset text, validating the runs of {@code scale} only (null: of every scale). */
  static SweepSpec parse(String yaml, String source, String scale) {
    SweepSpec s = Configs.parse(yaml, SweepSpec.class, source);
    s.validate(source, scale);
    return s;
  }

  /** Checks names, scales and that every config key is known and every value valid (at every scale). */
  public void validate(String source) {
    validate(source, null);
  }

  /**
   * As {@link #validate(String)}, planning and resolving the runs of {@code planned} only (null: of every scale); the
   * keys of every scale are checked either way.
   */
  public void validate(String source, String planned) {
    if (name == null || name.isBlank()) {
      throw new ConfigException("name", "missing in " + source);
    }
    if (maxRuns != null && maxRuns < 1) {
      throw new ConfigException("max_runs", "expected a positive number of runs in " + source + ", got " + maxRuns);
    }
    if (figure != null && !FIGURES.contains(figure)) {
      throw new ConfigException("figure", "expected one of " + FIGURES + " in " + source + ", got '" + figure
          + "'" + Suggest.hint(figure, FIGURES));
    }
    for (String sc : scaleNames()) {
      if (!SCALES.contains(sc)) {
        throw new ConfigException(sc, "unknown scale in " + source + " (known scales: " + SCALES + ")");
      }
    }
    Set<String> known = configKeys();
    for (String sc : scaleNames()) {
      checkKeys(mergedBase(sc).keySet(), known, source, "base");
      checkKeys(mergedGrid(sc).keySet(), known, source, "grid");
      for (Map.Entry<String, List<Object>> e : mergedGrid(sc).entrySet()) {
        if (e.getValue() == null || e.getValue().isEmpty()) {
          throw new ConfigException(e.getKey(), "grid list is empty in " + source + " (scale " + sc + ")");
        }
      }
      for (Map<String, Object> o : mergedOverrides(sc).values()) {
        checkKeys(o.keySet(), known, source, "dataset_overrides");
      }
      for (Map<String, Object> o : mergedOptimizerOverrides(sc).values()) {
        checkKeys(o.keySet(), known, source, "optimizer_overrides");
      }
      StepSize st = stepSize(sc);
      if (st != null) {
        if (st.alphas() == null || st.alphas().isEmpty()) {
          throw new ConfigException("alphas", "step_size needs a non-empty list of alphas in " + source);
        }
        if (!(st.tol() >= 0)) {
          throw new ConfigException("tolerance", "expected >= 0 in " + source + ", got " + st.tol());
        }
        checkKeys(st.group(), known, source, "step_size.group_by");
        if (st.rule() != null && !st.halving() && !StepSize.EXHAUSTIVE.equals(st.rule())) {
          throw new ConfigException("step_size.rule", "expected exhaustive or halving in " + source + " (scale " + sc
              + "), got '" + st.rule() + "'");
        }
        if (st.rule() == null && (st.budgets() != null || st.keep() != null)) {
          throw new ConfigException("step_size.budgets", "budgets and keep belong to rule: halving in " + source
              + " (scale " + sc + "); the rule is " + (st.rule() == null ? "exhaustive (the default)" : st.rule()));
        }
      }
      NoiseFloor nf = noiseFloor(sc);
      if (nf != null) {
        if (nf.threads() == null || nf.threads().isEmpty() || nf.threads().stream().anyMatch(t -> t == null || t < 1)) {
          throw new ConfigException("noise_floor.threads", "expected a list of thread counts >= 1 in " + source
              + " (scale " + sc + "), got " + nf.threads());
        }
        if (nf.where() != null) {
          checkKeys(nf.where().keySet(), known, source, "noise_floor.where");
        }
        if (nf.per() != null) {
          checkKeys(nf.per(), known, source, "noise_floor.per");
        }
      }
      // every config of this scale must resolve (and the plan must be within the bound before it is built)
      if (planned == null || planned.equals(sc)) {
        checkPlanned(sc, 1, source);
        expand(sc, 1);
      }
    }
  }

  private static void checkKeys(Iterable<String> keys, Set<String> known, String source, String where) {
    for (String k : keys) {
      if (!known.contains(k)) {
        throw new ConfigException(k, "unknown config key in " + where + " of " + source + Suggest.hint(k, known)
            + " (known keys: " + known + ")");
      }
    }
  }

  Map<String, Object> mergedBase(String scale) {
    Map<String, Object> m = new LinkedHashMap<>(base == null ? Map.of() : base);
    Scale s = scale(scale);
    if (s.base() != null) {
      m.putAll(s.base());
    }
    return m;
  }

  LinkedHashMap<String, List<Object>> mergedGrid(String scale) {
    LinkedHashMap<String, List<Object>> m = new LinkedHashMap<>(grid == null ? Map.of() : grid);
    Scale s = scale(scale);
    if (s.grid() != null) {
      m.putAll(s.grid());
    }
    return m;
  }

  Map<String, Map<String, Object>> mergedOverrides(String scale) {
    return merge(datasetOverrides, scale(scale).datasetOverrides());
  }

  Map<String, Map<String, Object>> mergedOptimizerOverrides(String scale) {
    return merge(optimizerOverrides, scale(scale).optimizerOverrides());
  }

  /** The preset's per-name overrides with the scale's merged over them, name by name. */
  private static Map<String, Map<String, Object>> merge(Map<String, Map<String, Object>> top,
      Map<String, Map<String, Object>> scaled) {
    Map<String, Map<String, Object>> m = new LinkedHashMap<>();
    if (top != null) {
      top.forEach((k, v) -> m.put(k, new LinkedHashMap<>(v)));
    }
    if (scaled != null) {
      scaled.forEach((k, v) -> m.computeIfAbsent(k, x -> new LinkedHashMap<>()).putAll(v));
    }
    return m;
  }

  /** The noise-floor phase at a scale (the scale's block wins over the top-level one), or null. */
  public NoiseFloor noiseFloor(String scale) {
    NoiseFloor n = scale(scale).noiseFloor();
    return n != null ? n : noiseFloor;
  }

  /** The step-size selection at a scale, or null. */
  public StepSize stepSize(String scale) {
    StepSize s = scale(scale).stepSize();
    StepSize st = stepSize == null ? s : stepSize.over(s);
    if (st == null || !st.halving()) {
      return st;
    }
    Object e = mergedBase(scale).get("epochs");
    int epochs = e instanceof Number n ? n.intValue() : TrainConfig.defaults().epochs();
    return st.resolved(epochs);
  }

  /** The figure the results make: {@code figure}, or {@link #RUNS_FIGURE} when the sweep names none. */
  public String figureOrDefault() {
    return figure == null ? RUNS_FIGURE : figure;
  }

  /** The scales the sweep defines: its {@code scales} block's, or every scale when it has none. */
  public List<String> scaleNames() {
    return scales == null || scales.isEmpty() ? SCALES : List.copyOf(scales.keySet());
  }

  /** The scale's block (an empty one at every scale for a sweep without a {@code scales} block); unknown: an error. */
  public Scale scale(String scale) {
    if ((scales == null || scales.isEmpty()) && SCALES.contains(scale)) {
      return new Scale(null, null, null, null, null, null, null);
    }
    Scale s = scales == null ? null : scales.get(scale);
    if (s == null) {
      throw new ConfigException("scale", "unknown scale '" + scale + "' for experiment " + name + " (known: "
          + (scales == null ? List.of() : scales.keySet()) + ")");
    }
    return s;
  }

  /**
   * The runs of a scale's first phase ({@link SweepPlan#expand}): the "main" runs, or the "select" runs of a step-size
   * selection.
   */
  public List<SweepRun> expand(String scale, int seeds) {
    return SweepPlan.expand(this, scale, seeds);
  }

  /** The most runs a scale of this sweep may plan: {@code max_runs}, else {@link #DEFAULT_MAX_RUNS}. */
  public long runBound() {
    return maxRuns == null ? DEFAULT_MAX_RUNS : maxRuns;
  }

  /** The number of grid points of a scale (the product of its grid lists' lengths), saturating at Long.MAX_VALUE. */
  public long gridPoints(String scale) {
    long n = 1;
    for (List<Object> v : mergedGrid(scale).values()) {
      n = times(n, v == null ? 0 : v.size());
    }
    return n;
  }

  /**
   * The runs a scale plans with {@code seeds} seeds, at most: grid points x seeds; with a step-size selection, grid
   * points x alphas selection runs plus at most grid points x seeds retraining runs (one chosen step size per group).
   * Noise-floor runs (a few per data set) are not counted. Computed without expanding anything.
   */
  public long plannedRuns(String scale, int seeds) {
    long points = gridPoints(scale);
    StepSize st = stepSize(scale);
    long perPoint = st == null || st.alphas() == null ? seeds : (long) st.alphas().size() + seeds;
    return times(points, perPoint);
  }

  private static long times(long a, long b) {
    return b != 0 && a > Long.MAX_VALUE / b ? Long.MAX_VALUE : a * b;
  }

  /** Refuses, before any run is planned, a scale that plans more runs than {@link #runBound}. */
  public void checkPlanned(String scale, int seeds, String source) {
    long n = plannedRuns(scale, seeds);
    if (n > runBound()) {
      StepSize st = stepSize(scale);
      String how = gridPoints(scale) + " grid points x " + (st == null || st.alphas() == null ? seeds + " seed"
          + (seeds == 1 ? "" : "s") : "(" + st.alphas().size() + " step sizes + " + seeds + " seed"
          + (seeds == 1 ? "" : "s") + ")");
      throw new ConfigException("max_runs", (n == Long.MAX_VALUE ? "more than " + Long.MAX_VALUE : "" + n)
          + " runs planned by " + source + " at scale " + scale + " (" + how + "), more than the bound of "
          + runBound() + " runs; expected at most " + runBound() + " (raise the bound with --max-runs N, or "
          + "max_runs: N in the sweep file)");
    }
  }

  /**
   * The data sets a scale trains on, as the runs name them ({@link TrainConfig#datasetName}): the scale's grid list of
   * {@code dataset}, else its base's value, else the default.
   */
  public List<String> datasets(String scale) {
    List<Object> g = mergedGrid(scale).get("dataset");
    List<Object> raw = g != null ? g : java.util.Collections.singletonList(mergedBase(scale).get("dataset"));
    Set<String> out = new LinkedHashSet<>();
    for (Object d : raw) {
      out.add(TrainConfig.datasetName(d == null ? TrainConfig.defaults().dataset() : d.toString()));
    }
    return new ArrayList<>(out);
  }

  /**
   * Before a run of {@code scale} with the overrides {@code sets} ({@link #load(String, List)}) of the sweep {@code
   * original} (the same sweep without them): refuses, naming the key,
   * <ul>
   *   <li>a {@code --set} of {@code lr} where a step-size selection sets every run's lr (10^-alpha), and</li>
   *   <li>at the small scales ({@link #SMALL_SCALES}), a data set that the scale does not train on without the overrides
   *       and for which nothing sets {@code per_class_train}: the small scales are sized by their own data sets
   *       (the bundled mnist-sample has 8,000 training images), so another data set would train on all its images.
   *       </li>
   * </ul>
   */
  public void checkOverrides(SweepSpec original, List<String> sets, String scale) {
    if (sets == null || sets.isEmpty()) {
      return;
    }
    StepSize st = stepSize(scale);
    for (String set : sets) {
      String key = set.substring(0, Math.max(0, set.indexOf('='))).strip();
      if (st != null && (key.endsWith(".lr") && (key.startsWith("base.") || key.startsWith("grid.")
          || key.startsWith("scales." + scale + ".base.") || key.startsWith("scales." + scale + ".grid.")
          || key.contains("_overrides.")))) {
        throw new ConfigException(key, "--set " + key + " would not reach any run at scale " + scale + ": the "
            + "step-size selection (step_size) sets each run's lr to 10^-alpha; expected --set step_size.alphas=[...] "
            + "to choose the step sizes");
      }
    }
    if (!SMALL_SCALES.contains(scale)) {
      return;
    }
    List<String> own = original.datasets(scale);
    Map<String, Object> b = mergedBase(scale);
    boolean perClassEverywhere = b.containsKey("per_class_train") || mergedGrid(scale).containsKey("per_class_train");
    Map<String, Map<String, Object>> over = mergedOverrides(scale);
    for (String d : datasets(scale)) {
      if (own.contains(d) || perClassEverywhere
          || over.containsKey(d) && over.get(d).containsKey("per_class_train")) {
        continue;
      }
      throw new ConfigException("per_class_train", "scale " + scale + " of " + name + " is sized for " + String.join(
          ", ", own) + "; with the data set " + d + " from --set nothing limits its training set, so its runs would "
          + "train on every image; expected --set base.per_class_train=N (images per class, e.g. 800: 8,000 "
          + "images of 10 classes) or --set dataset_overrides." + d + ".per_class_train=N, or a larger scale (medium, paper)");
    }
  }

  /**
   * The successive-halving plan of the sweep, checked against a run whose full budget is {@code epochs}: its last
   * budget must be {@code epochs}.
   */
  static SuccessiveHalving.Plan halvingPlan(StepSize st, int epochs, String scale) {
    SuccessiveHalving.Plan plan;
    try {
      plan = st.plan();
    } catch (IllegalArgumentException e) {
      throw new ConfigException("step_size.budgets", e.getMessage() + " (scale " + scale + ")");
    }
    int last = plan.budgets().get(plan.budgets().size() - 1);
    if (last != epochs) {
      throw new ConfigException("step_size.budgets", "the last budget " + last + " of " + plan.budgets()
          + " must equal the runs' epochs " + epochs + " (scale " + scale + "): the last rung is the full selection "
          + "budget");
    }
    return plan;
  }

}
