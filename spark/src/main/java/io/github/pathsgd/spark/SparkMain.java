package io.github.pathsgd.spark;

import io.github.pathsgd.experiments.sweep.SweepSpec;
import io.github.pathsgd.train.io.OutputTarget;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pathsgd-spark experiments run NAME|FILE ...}: the main class of the application jar for {@code spark-submit}
 * (and of the {@code ./pathsgd-spark} launcher, which runs it on local mode in-process).
 */
@Command(name = "pathsgd-spark", mixinStandardHelpOptions = true,
    description = "Sweeps on Apache Spark: one run per task.", subcommands = SparkMain.Experiments.class)
public final class SparkMain implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    CommandLine cl = new CommandLine(new SparkMain());
    cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
      if (System.getenv("PATHSGD_DEBUG") != null) {
        ex.printStackTrace();
      }
      cmd.getErr().println("pathsgd-spark: error: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
      return 1;
    });
    System.exit(cl.execute(args));
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** The runs of the sweep in {@code out} that diverged, by the status lines of its runs.jsonl (0 without it). */
  static long diverged(Path out) {
    Path f = out.resolve("runs.jsonl");
    try {
      if (!java.nio.file.Files.isRegularFile(f)) {
        return 0;
      }
      long n = 0;
      for (String l : java.nio.file.Files.readAllLines(f)) {
        if (!l.isBlank() && "diverged".equals(io.github.pathsgd.experiments.config.Configs.json().readTree(l)
            .path("status").asText())) {
          n++;
        }
      }
      return n;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
    }
  }

  @Command(name = "experiments", mixinStandardHelpOptions = true, description = "Run a sweep on Spark.",
      subcommands = Run.class)
  static final class Experiments implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      spec.commandLine().usage(System.out);
    }
  }

  @Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
      description = {"Run a preset's (or a sweep YAML file's) sweep into --out on Spark; rerun it to resume.",
        "The driver writes OUT/runs/<run_id>/, OUT/metrics.csv, OUT/runs.jsonl, OUT/timings.csv (and the selection "
            + "files), as `pathsgd experiments run` does.",
        "One Spark job per phase: all runs; or the select runs, then the final runs; with successive halving "
            + "(step_size.rule: halving) one job per rung, each later rung's runs trained from epoch 0 (same result "
            + "as the embedded runner's continued runs, at the from-scratch rung cost).",
        "A noise floor (noise_floor: the same run with pinned BLAS thread counts, e.g. 1 and 2) runs last, with no "
            + "Spark job: the driver trains those runs itself, one at a time (OpenBLAS's thread count is per process), "
            + "so the driver must see --data-dir (or its $PATHSGD_DATA) and --scratch, and have the cores and memory "
            + "of a run."})
  static final class Run implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "NAME|FILE", description = "size, rescaling, compare, or a sweep YAML file")
    String name;

    @Option(names = "--scale", required = true, description = "smoke, quick or paper")
    String scale;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output folder (resumable)")
    Path out;

    @Option(names = "--seeds", defaultValue = "1", paramLabel = "K", description = "seeds seed..seed+K-1 (default 1)")
    int seeds;

    @Option(names = "--data-dir", paramLabel = "DIR",
        description = "data folder for every run (as executors see it, and the driver too for a noise floor)")
    Path dataDir;

    @Option(names = "--threads-per-task", defaultValue = "1", paramLabel = "T",
        description = "BLAS threads per run (default 1; match spark.task.cpus)")
    int threads;

    @Option(names = "--master", paramLabel = "URL",
        description = "Spark master when not set by spark-submit (default local[2]); local[N] gets retries")
    String master;

    @Option(names = "--scratch", paramLabel = "DIR",
        description = "executors' folder for unfinished runs, and the driver's for the noise runs (default: their "
            + "java.io.tmpdir/pathsgd-spark)")
    Path scratch;

    @Option(names = "--store", paramLabel = "URI",
        description = "result store: a Hadoop-compatible URI the driver and every executor reach (file:///shared/"
            + "results, hdfs://..., s3a://...); tasks upload each finished run there, the driver installs it from "
            + "there as the task ends (default: spark.pathsgd.store, else SCRATCH/results, else on local mode "
            + "java.io.tmpdir/pathsgd-spark/results)")
    String store;

    @Option(names = "--quiet", description = "no progress lines")
    boolean quiet;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
        description = "override a key of the sweep (repeatable; as for pathsgd experiments run)")
    java.util.List<String> sets = new java.util.ArrayList<>();

    @Override
    public Integer call() {
      SweepSpec sweep = SweepSpec.load(name, sets, scale);
      sweep.scale(scale); // an unknown scale refused before Spark starts
      if (!sets.isEmpty()) { // as experiments run: a --set that cannot reach its runs, or unsizes a small scale
        sweep.checkOverrides(SweepSpec.load(name, java.util.List.of(), scale), sets, scale);
      }
      sweep.checkPlanned(scale, seeds, name); // refused by count before Spark starts
      checkOutputs(out);
      SparkConf conf = new SparkConf().setAppName("pathsgd " + sweep.name() + " --scale " + scale);
      if (master != null) {
        conf.setMaster(master);
      } else if (!conf.contains("spark.master")) {
        conf.setMaster("local[2]");
      }
      conf.setMaster(withRetries(conf.get("spark.master"), conf.getInt("spark.task.maxFailures", 4)));
      Path sc = scratch != null ? scratch : conf.contains(SparkSweep.SCRATCH) ? Path.of(conf.get(SparkSweep.SCRATCH))
          : null;
      long t0 = System.nanoTime();
      try (JavaSparkContext ctx = new JavaSparkContext(conf)) {
        ctx.setLogLevel("WARN");
        SparkSweep.Outcome o = new SparkSweep(sweep, scale, seeds,
            new SparkSweep.Options(out, threads, dataDir, sc, quiet ? null : System.out, store)).run(ctx);
        System.out.printf("pathsgd-spark experiments run %s --scale %s on %s: %d runs planned, %d trained, %d already "
            + "done, %d diverged (%d Spark jobs%s)%s%s%s%s%s in %.1fs; results in %s%n", name, scale,
            conf.get("spark.master"),
            o.planned(), o.trained(), o.skipped(), diverged(out), o.jobs(),
            o.onDriver() > 0 ? ", " + o.onDriver() + " noise runs trained on the driver" : "",
            o.fromStore() > 0 ? ", " + o.fromStore() + " installed from the result store without training" : "",
            o.retried() > 0 ? ", " + o.retried() + " after a failed task attempt" : "",
            o.continued() > 0 ? ", " + o.continued() + " continued from their previous halving rung's checkpoint" : "",
            o.selectionPending() ? ", step-size selection pending" : "",
            o.damaged().isEmpty() ? "" : ", damaged: " + String.join("; ", o.damaged()),
            (System.nanoTime() - t0) / 1e9, out);
      }
      return 0;
    }
  }

  /** The sweep folder's own files, checked before Spark starts, as `pathsgd experiments run` checks them. */
  static void checkOutputs(Path out) {
    try {
      OutputTarget.checkFolder(out);
      OutputTarget.checkFolder(out.resolve("runs"));
      for (String f : List.of("sweep.json", "metrics.csv", "timings.csv", "runs.jsonl", "selection.csv",
          "selection.json")) {
        OutputTarget.of(out.resolve(f));
      }
    } catch (OutputTarget.Refused e) {
      throw new OutputTarget.Refused("--out: " + e.getMessage());
    }
  }

  private static final Pattern LOCAL = Pattern.compile("local\\[(\\d+|\\*)]");

  /** {@code local[N]} does not retry a failed task; {@code local[N,F]} does (F attempts). Other masters as they are. */
  static String withRetries(String master, int maxFailures) {
    Matcher m = LOCAL.matcher(master.trim());
    if (master.trim().equals("local")) {
      return "local[1," + maxFailures + "]";
    }
    return m.matches() ? "local[" + m.group(1) + "," + maxFailures + "]" : master;
  }
}
