package io.github.pathsgd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.sweep.Selection;
import io.github.pathsgd.experiments.sweep.SweepDriver;
import io.github.pathsgd.experiments.sweep.SweepPlan;
import io.github.pathsgd.experiments.sweep.SweepSpec;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import io.github.pathsgd.experiments.sweep.SweepTasks;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pathsgd experiments merge OUT DIR...}: combines the folders of one sweep's shards (each from {@code
 * experiments run --shard k/N --out DIR} on machines that share no file system, e.g. a Slurm array) into one result
 * folder: every finished run folder is copied into {@code OUT/runs/} (each file atomically, summary.json last), then
 * the combined files and the step-size selection are rebuilt as the sweep itself writes them. Folders of different
 * sweeps (another preset, scale, seed count or step-size rule, or a run folder the sweep does not plan) are refused.
 * So is a sweep whose step-size selection is successive halving ({@link SweepTasks#requireExhaustive}): merge copies
 * the first phase's and the final runs, and does not plan the later rungs from the earlier rungs' results; and a sweep
 * with a noise floor ({@link SweepTasks#requireNoNoiseFloor}), whose noise runs it does not plan either.
 */
@Command(name = "merge", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Merge shard folders of one sweep (from --shard k/N) into OUT: run folders, metrics.csv, runs.jsonl, "
        + "timings.csv and the selection files, as one unsharded sweep writes them.",
      "A sweep with a step-size selection: merge the select shards, then run the sweep (or its shards) on OUT to "
          + "train the retraining runs."})
final class ExperimentsMergeCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "OUT", description = "the merged folder (may be new, or hold the same sweep)")
  Path out;

  @Parameters(index = "1..*", arity = "1..*", paramLabel = "DIR", description = "shard folders of the same sweep")
  List<Path> dirs;

  @Option(names = "--spec", paramLabel = "FILE", description = "the sweep YAML file, for a sweep that is not a preset")
  Path specFile;

  /** The sweep.json fields that make two folders the same sweep. */
  static final List<String> SAME = List.of("experiment", "scale", "seeds", "step_size");

  @Override
  public Integer call() throws IOException {
    List<Path> sources = new ArrayList<>();
    JsonNode ref = null;
    Path refDir = null;
    for (Path d : dirs) {
      JsonNode s = sweepJson(d);
      if (s == null) {
        throw new IllegalArgumentException(d + ": no sweep.json; not a folder of `pathsgd experiments run`");
      }
      if (ref == null) {
        ref = s;
        refDir = d;
      } else {
        refuseIfDifferent(refDir, ref, d, s);
      }
      sources.add(d);
    }
    JsonNode existing = sweepJson(out);
    if (existing != null) {
      refuseIfDifferent(refDir, ref, out, existing);
    }
    String name = ref.path("experiment").asText();
    String scale = ref.path("scale").asText();
    int seeds = ref.path("seeds").asInt();
    // the one sweep loader: a bounded read of a regular file, as for `experiments run FILE.yaml`
    SweepSpec spec = SweepSpec.load(specFile != null ? specFile.toString() : name, java.util.List.of());
    if (!spec.name().equals(name)) {
      throw new IllegalArgumentException((specFile != null ? specFile : name) + ": is the sweep '" + spec.name()
          + "', but " + refDir + "/sweep.json names '" + name + "'");
    }
    // a halving sweep's later rungs are planned from the earlier rungs' results, which merge does not do
    SweepTasks.requireExhaustive(spec, scale);
    // nor does it plan the noise-floor runs, planned after the final runs
    SweepTasks.requireNoNoiseFloor(spec, scale);
    ExperimentsCommand.RunCommand.checkOutputs(out);
    SweepPlan plan = new SweepPlan(spec, scale, seeds, null, 0);
    // before anything is copied: no run folder of OUT is a link that leads out of it
    SweepDriver.prepare(out, plan);
    List<SweepRun> first = plan.first();
    Map<String, SweepRun> planned = new LinkedHashMap<>();
    first.forEach(r -> planned.put(r.runId(), r));
    SweepSpec.StepSize st = spec.stepSize(scale);
    // every run folder of every shard must be a run of this sweep: a first-phase run, or (with a selection) a
    // retraining run, checked once the selection is known
    Map<Path, TreeSet<String>> later = new LinkedHashMap<>();
    for (Path d : sources) {
      for (String id : runIds(d)) {
        if (!planned.containsKey(id)) {
          if (st == null) {
            throw notPlanned(d, id, name, scale, seeds);
          }
          later.computeIfAbsent(d, k -> new TreeSet<>()).add(id);
        }
      }
    }
    int copied = copy(sources, first);
    List<SweepRun> all = first;
    boolean complete = st == null;
    if (st != null) {
      Selection sel = SweepTasks.select(out, first, st);
      if (sel.complete()) {
        all = plan.withFinals(sel.selectRuns(), sel);
        List<SweepRun> fin = all.subList(sel.selectRuns().size(), all.size());
        complete = true;
        fin.forEach(r -> planned.put(r.runId(), r));
        copied += copy(sources, fin);
      }
      for (Map.Entry<Path, TreeSet<String>> e : later.entrySet()) {
        for (String id : e.getValue()) {
          if (!planned.containsKey(id)) {
            throw notPlanned(e.getKey(), id, name, scale, seeds);
          }
        }
      }
    }
    List<String> damaged = SweepTasks.aggregate(out, all, complete);
    int settled = 0;
    List<String> open = new ArrayList<>();
    for (SweepRun r : all) {
      if (SweepTasks.settled(out, r)) {
        settled++;
      } else {
        open.add(r.runId());
      }
    }
    System.out.printf("pathsgd experiments merge: %d folders of %s --scale %s --seeds %d into %s: %d run folders "
        + "copied, %d of %d planned runs finished%s%s%s%n", sources.size(), name, scale, seeds, out, copied, settled,
        all.size(), open.isEmpty() ? "" : ", not finished in any shard: " + String.join(", ", open),
        complete ? "" : ", step-size selection pending (a select run is not finished in any shard)",
        damaged.isEmpty() ? "" : ", damaged: " + String.join("; ", damaged));
    if (!open.isEmpty() || !complete) {
      System.out.printf("run `pathsgd experiments run %s --scale %s --seeds %d --out %s` (or its shards on copies "
          + "of it, then merge again) to train the rest%n", name, scale, seeds, out);
    }
    return 0;
  }

  /** Copies each run of {@code runs} that is unsettled in OUT from the first folder where it is settled. */
  private int copy(List<Path> sources, List<SweepRun> runs) throws IOException {
    int n = 0;
    for (SweepRun r : runs) {
      if (SweepTasks.settled(out, r)) {
        continue;
      }
      Path from = null;
      for (Path d : sources) {
        if (SweepTasks.settled(d, r) && (from == null
            || "missing-data".equals(SweepTasks.kind(from.resolve("runs").resolve(r.runId()), r)))) {
          from = d; // a finished run wins over a record of absent data
        }
      }
      if (from == null) {
        continue;
      }
      Path dir = from.resolve("runs").resolve(r.runId());
      Map<String, byte[]> files = new LinkedHashMap<>();
      if ("missing-data".equals(SweepTasks.kind(dir, r))) {
        files.put(SweepTasks.MISSING_JSON, Files.readAllBytes(dir.resolve(SweepTasks.MISSING_JSON)));
      } else {
        files.putAll(SweepTasks.resultFiles(dir));
      }
      if (SweepTasks.install(out, r, files)) {
        n++;
      }
    }
    return n;
  }

  private static IllegalArgumentException notPlanned(Path d, String id, String name, String scale, int seeds) {
    return new IllegalArgumentException(d.resolve("runs").resolve(id) + ": not a run of " + name + " --scale " + scale
        + " --seeds " + seeds + " (another config or preset version); refusing to merge");
  }

  private static void refuseIfDifferent(Path aDir, JsonNode a, Path bDir, JsonNode b) {
    for (String k : SAME) {
      if (!Objects.equals(a.path(k), b.path(k))) {
        throw new IllegalArgumentException(bDir + "/sweep.json: " + k + " " + b.path(k) + ", but " + aDir
            + "/sweep.json has " + a.path(k) + "; refusing to merge folders of different sweeps (experiment "
            + b.path("experiment") + " vs " + a.path("experiment") + ")");
      }
    }
  }

  private static JsonNode sweepJson(Path d) {
    Path f = d.resolve("sweep.json");
    if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
      return null;
    }
    try {
      return Configs.json().readTree(Files.readAllBytes(f));
    } catch (IOException e) {
      throw new UncheckedIOException(f + ": cannot read (" + e.getMessage() + ")", e);
    }
  }

  private static List<String> runIds(Path d) throws IOException {
    Path runs = d.resolve("runs");
    List<String> ids = new ArrayList<>();
    if (!Files.isDirectory(runs)) {
      return ids;
    }
    try (Stream<Path> s = Files.list(runs)) {
      s.map(p -> p.getFileName().toString()).filter(SweepTasks::isRunId).sorted().forEach(ids::add);
    }
    return ids;
  }
}
