package io.github.pathsgd.cli;

import io.github.pathsgd.experiments.sweep.SweepRunner;
import io.github.pathsgd.experiments.sweep.SweepSpec;
import io.github.pathsgd.experiments.sweep.SweepTasks;
import io.github.pathsgd.train.io.OutputTarget;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pathsgd experiments}: the chapter's experiment presets. */
@Command(
    name = "experiments",
    mixinStandardHelpOptions = true,
    description = {"The chapter's experiments as resumable sweeps: size (E1), rescaling (E2), compare (E3/E4)."},
    subcommands = {ExperimentsCommand.ListCommand.class, ExperimentsCommand.ShowCommand.class,
      ExperimentsCommand.RunCommand.class, ExperimentsMergeCommand.class})
final class ExperimentsCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** The overrides with {@code max_runs=N} added for {@code --max-runs N}. */
  static List<String> withMaxRuns(List<String> sets, Long maxRuns) {
    if (maxRuns == null) {
      return sets;
    }
    if (maxRuns < 1) {
      throw new IllegalArgumentException("--max-runs: expected N >= 1, got " + maxRuns);
    }
    List<String> out = new ArrayList<>(sets);
    out.add("max_runs=" + maxRuns);
    return out;
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the presets and their scales.")
  static final class ListCommand implements Callable<Integer> {
    @Override
    public Integer call() {
      for (String name : SweepSpec.PRESETS) {
        SweepSpec s = SweepSpec.load(name);
        System.out.println(s.name() + ": " + s.description());
        for (String sc : SweepSpec.SCALES) {
          if (s.scales().get(sc) == null) {
            continue;
          }
          int n = s.expand(sc, 1).size();
          System.out.println("  " + sc + " (" + n + (s.stepSize(sc) == null ? " runs" : s.stepSize(sc).halving()
              ? " first-rung runs + later rungs (successive halving) + retraining" : " selection runs + retraining")
              + "): " + s.scale(sc).description());
        }
      }
      return 0;
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true,
      description = {"Print a preset's YAML (the schema of a sweep file for 'experiments run FILE.yaml').",
        "With --set, print the sweep with the overrides applied (without the comments)."})
  static final class ShowCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "NAME|FILE", description = "size, rescaling, compare or a sweep file")
    String name;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override a key (repeatable), see 'run'")
    List<String> sets = new ArrayList<>();

    @Option(names = "--max-runs", paramLabel = "N", description = "the most runs a scale may plan, see 'run'")
    Long maxRuns;

    @Override
    public Integer call() {
      sets = withMaxRuns(sets, maxRuns);
      if (sets.isEmpty()) {
        SweepSpec.load(name, List.of()); // validates a file
        System.out.print(SweepSpec.sourceText(name));
      } else {
        SweepSpec.load(name, sets);
        System.out.print(SweepSpec.applySets(SweepSpec.sourceText(name), sets, name));
      }
      return 0;
    }
  }

  @Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
      description = {"Run a preset's sweep into --out; rerun the same command to resume.",
        "Writes OUT/runs/<run_id>/, OUT/metrics.csv, OUT/runs.jsonl, OUT/timings.csv (and selection.csv for compare).",
        "Several copies or shards may share one --out: each run is trained once, under a file lock in OUT/.locks/."})
  static final class RunCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec cmd;

    @Parameters(index = "0", paramLabel = "NAME|FILE",
        description = "size, rescaling, compare, or a sweep file in the same schema (an existing path is a file)")
    String name;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
        description = {"override a key of the sweep (repeatable): dotted keys, YAML values, e.g. base.epochs=3,",
          "grid.dataset=[fashion-mnist], scales.quick.base.hidden=[256,256]; a top-level key (base.K, grid.K, ...)",
          "is the value of every run at every scale: it replaces the scales' own values of K"})
    List<String> sets = new ArrayList<>();

    @Option(names = "--max-runs", paramLabel = "N",
        description = "the most runs the scale may plan (default " + SweepSpec.DEFAULT_MAX_RUNS + ", or the sweep "
            + "file's max_runs); a larger plan is refused before any run")
    Long maxRuns;

    @Option(names = "--scale", required = true, description = "smoke (seconds), quick (minutes), medium (hours) or paper (the chapter)")
    String scale;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output folder (resumable)")
    Path out;

    @Option(names = "--seeds", defaultValue = "1", paramLabel = "K", description = "seeds seed..seed+K-1 (default 1)")
    int seeds;

    @Option(names = "--jobs", defaultValue = "1", paramLabel = "J",
        description = "runs at once; J > 1 uses one BLAS thread per run (default 1)")
    int jobs;

    @Option(names = "--shard", paramLabel = "k/N", description = "run only runs whose index is k modulo N")
    String shard;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "data folder for every run")
    Path dataDir;

    @Option(names = "--quiet", description = "no progress lines")
    boolean quiet;

    @Override
    public Integer call() {
      if (seeds < 1) {
        throw new IllegalArgumentException("--seeds: expected K >= 1, got " + seeds);
      }
      List<String> all = withMaxRuns(sets, maxRuns);
      SweepSpec spec = SweepSpec.load(name, all, scale);
      spec.scale(scale);
      if (!sets.isEmpty()) {
        spec.checkOverrides(SweepSpec.load(name, withMaxRuns(List.of(), maxRuns), scale), sets, scale);
      }
      spec.checkPlanned(scale, seeds, name); // the plan is bounded (--max-runs): refused before any work
      int k = 0;
      int n = 1;
      if (shard != null) {
        String[] p = shard.split("/");
        try {
          if (p.length != 2) {
            throw new NumberFormatException();
          }
          k = Integer.parseInt(p[0].trim());
          n = Integer.parseInt(p[1].trim());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("--shard expects k/N, e.g. 0/4, got '" + shard + "'");
        }
      }
      checkOutputs(out);
      SweepRunner[] runner = new SweepRunner[1];
      SweepRunner.Options o = SweepRunner.Options.of(out).withJobs(jobs).withShard(k, n).withDataDir(dataDir)
          .withLog(quiet ? null : System.out);
      // Ctrl-C or SIGTERM: say where the sweep stopped and the command that resumes it (the JVM runs the hook on both)
      SweepStopReport where = new SweepStopReport(out, () -> runner[0].plannedRuns(),
          cmd.commandLine().getParseResult().originalArgs());
      boolean bar = !quiet && jobs == 1 && Progress.interactive(); // one bar at a time: parallel runs would overdraw
      o = o.withListeners(run -> bar ? io.github.pathsgd.train.listener.Listeners.compose(where.track(run),
          sweepProgress(System.out, run, runner[0].plannedRuns(), true)) : where.track(run));
      runner[0] = new SweepRunner(spec, scale, seeds, o);
      System.out.println(planLine(spec, scale, seeds));
      Thread hook = new Thread(() -> System.err.println(where.line()), "pathsgd-sweep-stop-report");
      Runtime.getRuntime().addShutdownHook(hook);
      SweepRunner.Outcome r;
      try {
        r = runner[0].run();
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
          // the JVM is shutting down already: the hook reports
        }
      }
      System.out.printf("pathsgd experiments run %s --scale %s: %d runs planned, %d trained (%d diverged%s), "
          + "%d already done, %d without data%s%s%s; results in %s%n", name, scale, r.planned(), r.trained(),
          r.diverged(), r.repaired() > 0 ? ", " + r.repaired() + " of them again because their files were damaged" : "",
          r.skipped(), r.missingData(), r.selectionPending() ? ", step-size selection pending" : "",
          r.damaged().isEmpty() ? "" : ", " + r.damaged().size() + " damaged and left out of the combined files ("
              + String.join("; ", r.damaged()) + ")",
          r.combinedKept() ? ", combined files left as they were (they list retraining runs the pending selection "
              + "has not decided yet)" : "", out);
      if (!r.failed().isEmpty()) {
        throw new IllegalArgumentException(r.failed().size() + " run(s) refused, their config does not check against "
            + "their data (nothing was written for them; fix the sweep, then rerun to train them): "
            + String.join("; ", r.failed()));
      }
      return 0;
    }

    /**
     * What the sweep is about to do, printed before it starts: how many runs it plans (at most, with a step-size
     * selection) and the data sets they train on.
     */
    static String planLine(SweepSpec spec, String scale, int seeds) {
      SweepSpec.StepSize st = spec.stepSize(scale);
      long points = spec.gridPoints(scale);
      String runs = st == null ? spec.plannedRuns(scale, seeds) + " runs"
          : "up to " + spec.plannedRuns(scale, seeds) + " runs (" + points * st.alphas().size()
              + " step-size selection runs, then up to " + points * seeds + " retraining runs)";
      return "pathsgd experiments run " + spec.name() + " --scale " + scale + ": plans " + runs
          + (spec.noiseFloor(scale) != null ? " and the noise-floor runs" : "") + " on "
          + String.join(", ", spec.datasets(scale));
    }

    /**
     * The progress bar of a sweep's run: its position (run {@code r.index() + 1} of {@code runs}) feeds the sweep's
     * ETA; no per-epoch lines (the sweep logs one line per run).
     */
    static Progress sweepProgress(java.io.PrintStream out, io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun r,
        int runs, boolean bar) {
      return new Progress(out, r.runId(), bar, r.config().batchSize(), new Progress.Sweep(r.index() + 1, runs),
          System::nanoTime).withoutEpochLines();
    }

    /** The sweep folder's own files, checked before the first run (each run checks its folder when it starts). */
    static final List<String> FILES = List.of("sweep.json", "metrics.csv", "timings.csv", "runs.jsonl",
        "selection.csv", "selection.json");

    /**
     * Checks --out and the sweep's own files by {@link OutputTarget}'s rule, and that none of them (runs/ included) is
     * a symbolic link that leads out of --out, before any run.
     */
    static void checkOutputs(Path out) {
      try {
        OutputTarget.checkFolder(out);
        SweepTasks.checkSweepFolder(out); // before runs/ is looked at through a link that leaves --out
        OutputTarget.checkFolder(out.resolve("runs"));
        for (String f : FILES) {
          OutputTarget.of(out.resolve(f));
        }
      } catch (OutputTarget.Refused e) {
        throw new OutputTarget.Refused("--out: " + e.getMessage());
      }
    }
  }
}
