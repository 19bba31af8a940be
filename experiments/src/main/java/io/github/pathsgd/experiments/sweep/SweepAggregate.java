package io.github.pathsgd.experiments.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.config.TrainConfig;
import io.github.pathsgd.experiments.rundir.MetricsCsv;
import io.github.pathsgd.experiments.rundir.Provenance;
import io.github.pathsgd.experiments.rundir.RunWriter;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import io.github.pathsgd.train.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The combined files of a sweep folder, rebuilt from its per-run files in expansion order: {@code metrics.csv}
 * (without wall-clock metrics), {@code timings.csv} and {@code runs.jsonl}.
 */
final class SweepAggregate {
  private SweepAggregate() {}

  /**
   * What rebuilding the combined files found.
   *
   * @param written false when they were left as they were
   * @param damaged planned runs left out because their files are damaged, "run_id (what is wrong)"
   * @param kept when not written: the intact runs they list that the plan lacks
   */
  record Result(boolean written, List<String> damaged, List<String> kept) {}

  /**
   * Rebuilds the combined files from every intact run folder of {@code runs}. With {@code planComplete} false (the
   * retraining runs of a pending step-size selection are not in {@code runs}) they are left as they are when the
   * current runs.jsonl lists a run outside {@code runs} whose folder is still intact, so they never lose one.
   */
  static Result write(Path out, List<SweepRun> runs, boolean planComplete) {
    StringBuilder metrics = new StringBuilder(MetricsCsv.HEADER).append('\n');
    StringBuilder timings = new StringBuilder("run_id,epoch,seconds\n");
    StringBuilder jsonl = new StringBuilder();
    ObjectWriter w = Configs.json().writer().without(SerializationFeature.INDENT_OUTPUT);
    List<String> damaged = new ArrayList<>();
    Set<String> included = new HashSet<>();
    try {
      for (SweepRun r : runs) {
        Path d = out.resolve("runs").resolve(r.runId());
        RunFolder.State st = RunFolder.inspect(d, r);
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("index", r.index());
        line.put("phase", r.phase());
        line.put("run_id", r.runId());
        switch (st.kind()) {
          case FINISHED -> {
            JsonNode s = st.json();
            JsonNode c = st.config();
            line.put("status", s.path("status").asText());
            line.put("reason", s.path("reason").asText());
            line.put("alpha", r.alpha());
            line.put("config", c.get("config"));
            line.put("summary", s);
            line.put("data", c.get("data"));
            line.put("provenance", c.get("provenance"));
            jsonl.append(w.writeValueAsString(line)).append('\n');
            included.add(r.runId());
            for (MetricsCsv.Row row : st.metrics()) {
              if (row.split().equals("train") && row.metric().equals("seconds")) {
                timings.append(row.runId()).append(',').append(row.epoch()).append(',').append(row.valueText())
                    .append('\n');
              } else {
                metrics.append(row.line()).append('\n');
              }
            }
          }
          case MISSING_DATA -> {
            line.put("status", SweepRunner.MISSING);
            line.put("reason", st.json().path("reason").asText());
            line.put("alpha", r.alpha());
            line.put("config", Configs.toMap(r.config()));
            line.put("provenance", Map.of("pathsgd_version", Provenance.version()));
            jsonl.append(w.writeValueAsString(line)).append('\n');
            included.add(r.runId());
          }
          case DAMAGED -> damaged.add(r.runId() + " (" + st.problem() + ")");
          case UNFINISHED -> {
            // not yet
          }
          default -> throw new IllegalStateException(st.kind().toString());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the run files in " + out + ": " + e.getMessage(), e);
    }
    if (!planComplete) {
      List<String> kept = listedAndIntact(out, included);
      if (!kept.isEmpty()) {
        return new Result(false, damaged, kept);
      }
    }
    AtomicFiles.writeStringInside(out, out.resolve("metrics.csv"), metrics.toString());
    AtomicFiles.writeStringInside(out, out.resolve("timings.csv"), timings.toString());
    AtomicFiles.writeStringInside(out, out.resolve("runs.jsonl"), jsonl.toString());
    return new Result(true, damaged, List.of());
  }

  /** The runs the current runs.jsonl lists, outside {@code included}, whose folders are still intact. */
  private static List<String> listedAndIntact(Path out, Set<String> included) {
    Path jl = out.resolve("runs.jsonl");
    List<String> kept = new ArrayList<>();
    if (!Files.isRegularFile(jl, LinkOption.NOFOLLOW_LINKS)) {
      return kept;
    }
    List<String> lines;
    try {
      lines = Files.readAllLines(jl, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return kept; // unreadable: it lists nothing that could be lost
    }
    for (String l : lines) {
      JsonNode n;
      try {
        n = Configs.json().readTree(l);
      } catch (IOException e) {
        continue;
      }
      if (n == null || !n.path("run_id").isTextual()) {
        continue;
      }
      String id = n.path("run_id").asText();
      if (included.contains(id) || !id.matches("[0-9a-f]{12}")) {
        continue;
      }
      Path d = out.resolve("runs").resolve(id);
      boolean intact;
      try {
        TrainConfig c = Configs.json().treeToValue(n.path("config"), TrainConfig.class);
        SweepRun r = new SweepRun(n.path("index").asInt(), n.path("phase").asText(), id, c,
            n.path("alpha").isInt() ? n.path("alpha").asInt() : null);
        RunFolder.Kind k = RunFolder.inspect(d, r).kind();
        intact = k == RunFolder.Kind.FINISHED || k == RunFolder.Kind.MISSING_DATA;
      } catch (IOException | RuntimeException e) {
        intact = Files.exists(d.resolve(RunFolder.SUMMARY)); // cannot check it: keep it when in doubt
      }
      if (intact) {
        kept.add(id);
      }
    }
    return kept;
  }

  /**
   * Writes {@code sweep.json} (preset, scale, seeds, version, the step-size rule), unless the folder holds exactly
   * this file already (another copy of the sweep wrote it).
   */
  static void writeSweepJson(Path out, SweepSpec spec, String scale, int seeds) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("experiment", spec.name());
    m.put("description", spec.description());
    m.put("figure", spec.figureOrDefault());
    m.put("claim", spec.claim());
    m.put("scale", scale);
    m.put("scale_description", spec.scale(scale).description());
    m.put("seeds", seeds);
    m.put("pathsgd_version", Provenance.version());
    SweepSpec.StepSize st = spec.stepSize(scale);
    if (st != null) {
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("alphas", st.alphas());
      s.put("tolerance", st.tol());
      s.put("group_by", st.group());
      s.put("rule", st.halving() ? Selection.HALVING_RULE : Selection.RULE);
      if (st.halving()) {
        s.put("halving_budgets", st.budgets());
        s.put("halving_keep", st.keep());
      }
      m.put("step_size", s);
    }
    Path f = out.resolve("sweep.json");
    try {
      byte[] now = Configs.json().writeValueAsBytes(m);
      if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) && Arrays.equals(Files.readAllBytes(f), now)) {
        return; // another copy of this sweep wrote it: leave its time stamp alone
      }
    } catch (IOException e) {
      // rewrite it below
    }
    RunWriter.writeJson(out, f, m);
  }
}
