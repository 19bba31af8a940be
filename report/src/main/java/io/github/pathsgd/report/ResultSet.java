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

  /** Runs of a phase that finished. */
  public List<Run> phase(String phase) {
    return finished().stream().filter(r -> r.phase().equals(phase)).toList();
  }
}
