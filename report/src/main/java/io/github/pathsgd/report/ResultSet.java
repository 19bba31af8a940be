package io.github.pathsgd.report;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.rundir.MetricsCsv;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** A sweep's results, read from its files alone: sweep.json, runs.jsonl and metrics.csv. */
public final class ResultSet {
  /** One finished run: its runs.jsonl line and its metric curves ("split/metric" to epoch to value). */
  public record Run(JsonNode line, Map<String, TreeMap<Integer, Double>> curves) {
    public String id() {
      return line.path("run_id").asText();
    }

    public String phase() {
      return line.path("phase").asText();
    }

    public String status() {
      return line.path("status").asText();
    }

    public JsonNode config() {
      return line.path("config");
    }

    public String cfg(String key) {
      JsonNode n = config().path(key);
      return n.isValueNode() ? n.asText() : n.toString();
    }

    public TreeMap<Integer, Double> curve(String splitMetric) {
      return curves.getOrDefault(splitMetric, new TreeMap<>());
    }

    public double summary(String block, String key) {
      JsonNode n = line.path("summary").path(block).path(key);
      return n.isNumber() ? n.asDouble() : Double.NaN;
    }
  }

  private final Path dir;
  private final JsonNode sweep;
  private final List<Run> runs;

  private ResultSet(Path dir, JsonNode sweep, List<Run> runs) {
    this.dir = dir;
    this.sweep = sweep;
    this.runs = runs;
  }

  public static ResultSet read(Path dir) {
    try {
      Path sj = dir.resolve("sweep.json");
      Path rj = dir.resolve("runs.jsonl");
      if (!Files.exists(sj) || !Files.exists(rj)) {
        throw new IllegalArgumentException(dir + " holds no sweep results (sweep.json and runs.jsonl are needed; run "
            + "'pathsgd experiments run' first)");
      }
      JsonNode sweep = Configs.json().readTree(Files.readAllBytes(sj));
      Map<String, Map<String, TreeMap<Integer, Double>>> curves = new HashMap<>();
      Path mc = dir.resolve("metrics.csv");
      if (Files.exists(mc)) {
        List<MetricsCsv.Row> rows;
        try {
          rows = MetricsCsv.read(mc, null);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("cannot read results in " + dir + ": " + e.getMessage(), e);
        }
        for (MetricsCsv.Row row : rows) {
          curves.computeIfAbsent(row.runId(), k -> new HashMap<>())
              .computeIfAbsent(row.split() + "/" + row.metric(), k -> new TreeMap<>()).put(row.epoch(), row.value());
        }
      }
      List<Run> runs = new ArrayList<>();
      for (String l : Files.readAllLines(rj, StandardCharsets.UTF_8)) {
        if (l.isBlank()) {
          continue;
        }
        JsonNode n = Configs.json().readTree(l);
        runs.add(new Run(n, curves.getOrDefault(n.path("run_id").asText(), Map.of())));
      }
      return new ResultSet(dir, sweep, runs);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read results in " + dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * Train run folders (each with config.json and metrics.csv, as {@code pathsgd train} writes them; summary.json is
   * read for the status when present) as one result set of figure kind "runs", whose figures go to {@code out}.
   */
  public static ResultSet ofRuns(List<Path> runDirs, Path out) {
    List<Run> runs = new ArrayList<>();
    java.util.Set<String> ids = new java.util.HashSet<>();
    for (Path d : runDirs) {
      Path cj = d.resolve("config.json");
      Path mc = d.resolve("metrics.csv");
      if (!Files.isRegularFile(cj) || !Files.isRegularFile(mc)) {
        throw new IllegalArgumentException(d + " is not a train run folder (config.json and metrics.csv are needed; "
            + "'pathsgd train --out DIR' writes them)");
      }
      try {
        JsonNode cfg = Configs.json().readTree(Files.readAllBytes(cj));
        String id = cfg.path("run_id").asText(d.getFileName().toString());
        List<MetricsCsv.Row> rows;
        try {
          rows = MetricsCsv.read(mc, cfg.has("run_id") ? id : null);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("cannot read " + mc + ": " + e.getMessage(), e);
        }
        Map<String, TreeMap<Integer, Double>> curves = new HashMap<>();
        for (MetricsCsv.Row row : rows) {
          curves.computeIfAbsent(row.split() + "/" + row.metric(), k -> new TreeMap<>()).put(row.epoch(), row.value());
        }
        com.fasterxml.jackson.databind.node.ObjectNode line = Configs.json().createObjectNode();
        String unique = id;
        for (int k = 2; !ids.add(unique); k++) {
          unique = id + "-" + k;
        }
        line.put("run_id", unique);
        line.put("phase", "run");
        line.put("dir", d.toString());
        line.set("config", cfg.path("config"));
        Path sj = d.resolve("summary.json");
        JsonNode summary = Files.isRegularFile(sj) ? Configs.json().readTree(Files.readAllBytes(sj))
            : Configs.json().createObjectNode();
        line.set("summary", summary);
        boolean nonFinite = curves.getOrDefault("train/loss", new TreeMap<>()).values().stream()
            .anyMatch(v -> !Double.isFinite(v));
        line.put("status", summary.path("status").asText(nonFinite ? "diverged" : "completed"));
        if (cfg.has("provenance")) {
          line.set("provenance", cfg.path("provenance"));
        }
        runs.add(new Run(line, curves));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + d + ": " + e.getMessage(), e);
      }
    }
    com.fasterxml.jackson.databind.node.ObjectNode sweep = Configs.json().createObjectNode();
    sweep.put("experiment", "runs");
    sweep.put("figure", "runs");
    sweep.put("scale", "custom");
    sweep.put("seeds", 1);
    sweep.put("description", runDirs.size() + " train run folder(s)");
    runs.stream().map(r -> r.line().path("provenance").path("pathsgd_version")).filter(JsonNode::isTextual)
        .findFirst().ifPresent(v -> sweep.put("pathsgd_version", v.asText()));
    return new ResultSet(out, sweep, runs);
  }

  /** A result set of runs held in memory (tests). */
  static ResultSet of(Path dir, JsonNode sweep, List<Run> runs) {
    return new ResultSet(dir, sweep, runs);
  }

  /** The same sweep with only the runs that {@code keep} accepts (e.g. one data set's). */
  public ResultSet filter(java.util.function.Predicate<Run> keep) {
    return new ResultSet(dir, sweep, runs.stream().filter(keep).toList());
  }

  public Path dir() {
    return dir;
  }

  public JsonNode sweep() {
    return sweep;
  }

  public String experiment() {
    return sweep.path("experiment").asText();
  }

  public String figure() {
    return sweep.path("figure").asText();
  }

  public String scale() {
    return sweep.path("scale").asText();
  }

  public int seeds() {
    return sweep.path("seeds").asInt(1);
  }

  public String version() {
    return sweep.path("pathsgd_version").asText("dev");
  }

  /** Runs that finished (completed or diverged), in file order. */
  public List<Run> finished() {
    return runs.stream().filter(r -> r.status().equals("completed") || r.status().equals("diverged")).toList();
  }

  public List<Run> all() {
    return runs;
  }

  /**
   * Runs of a phase that finished. Without a step-size selection (no {@code step_size} in sweep.json, no final run) a
   * sweep's main runs are its final runs: each is trained with the step size it was given, so phase "final" gives
   * phase "main" then.
   */
  public List<Run> phase(String phase) {
    List<Run> runs = finished().stream().filter(r -> r.phase().equals(phase)).toList();
    if (runs.isEmpty() && phase.equals("final") && !sweep.has("step_size")) {
      return finished().stream().filter(r -> r.phase().equals("main")).toList();
    }
    return runs;
  }

  /**
   * Config keys that never make two runs different curves or settings: the seed (runs that differ only in it are
   * repeats, averaged), the data folder, and the BLAS thread count and the model file's hash (which do not change what
   * is trained; {@code init_model} itself does).
   */
  public static final java.util.Set<String> NOT_A_SETTING = java.util.Set.of("seed", "data_dir", "threads",
      "pin_threads", "init_model_sha256");

  /**
   * The config keys whose values differ between {@code runs}, in sorted order, without {@link #NOT_A_SETTING}: the
   * keys that tell runs apart (two runs with equal values of all of them are seeds of one setting).
   */
  public static List<String> varying(List<Run> runs) {
    java.util.TreeSet<String> keys = new java.util.TreeSet<>();
    runs.forEach(r -> r.config().fieldNames().forEachRemaining(keys::add));
    List<String> out = new ArrayList<>();
    for (String k : keys) {
      if (!NOT_A_SETTING.contains(k) && runs.stream().map(r -> r.cfg(k)).distinct().count() > 1) {
        out.add(k);
      }
    }
    return out;
  }

  /**
   * The series (legend) label of each run among {@code runs}: its optimizer and init, then "key value" for every other
   * varying key ({@link #varying}); runs with one label differ only in the seed (and {@link #NOT_A_SETTING}), so a
   * figure averages exactly the seeds of one setting and its legend names what differs.
   */
  public static java.util.function.Function<Run, String> series(List<Run> runs) {
    List<String> keys = varying(runs).stream().filter(k -> !k.equals("optimizer") && !k.equals("init")).toList();
    return r -> {
      StringBuilder b = new StringBuilder(r.cfg("optimizer")).append(' ').append(r.cfg("init"));
      for (int i = 0; i < keys.size(); i++) {
        b.append(i == 0 ? " (" : ", ").append(keys.get(i)).append(' ').append(r.cfg(keys.get(i)));
      }
      return keys.isEmpty() ? b.toString() : b.append(')').toString();
    };
  }
}
