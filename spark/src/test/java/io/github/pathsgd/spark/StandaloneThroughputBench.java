package io.github.pathsgd.spark;

import io.github.pathsgd.experiments.sweep.SweepRunner;
import io.github.pathsgd.experiments.sweep.SweepSpec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Benchmark (not a CI test: minutes of training), throughput of a standalone cluster against the embedded runner on
 * the same runs, in one session: the embedded runner ({@code --jobs SLOTS}, one BLAS thread per run) trains a preset's
 * sweep in this JVM, then a standalone Master and a Worker of SLOTS cores on 127.0.0.1 (started as {@link
 * SparkStandaloneIT} starts them, from the project's Maven dependencies) run the same sweep submitted through
 * SparkSubmit with the application jar as built ({@code spark.task.cpus=1}, one BLAS thread per task). Prints the wall
 * times (the cluster's from the submission to the driver's exit: driver and executor start-up included), runs per hour,
 * the overhead per task ((cluster wall − embedded wall) × SLOTS / runs) and the tasks' own seconds (training and
 * upload, from the driver's lines) against the embedded runs' seconds, and checks that both metrics.csv are equal.
 *
 * <pre>
 * mvn -B -ntp -q -pl spark -am package -DskipTests
 * mvn -B -ntp -q -pl spark dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt -Dmdep.includeScope=test
 * java --add-modules jdk.incubator.vector -cp spark/target/test-classes:spark/target/classes:$(cat /tmp/cp.txt) \
 *   io.github.pathsgd.spark.StandaloneThroughputBench rescaling quick 2 /tmp/tp
 * </pre>
 */
public final class StandaloneThroughputBench {
  private StandaloneThroughputBench() {}

  /** "[i/N] run_id phase: trained on host (attempt a..., 12.3s)" (a task's run) or "... (12.3s)" (embedded). */
  private static final Pattern SECONDS = Pattern.compile("^\\[\\d+/\\d+\\] [0-9a-f]{12} .*[ (]([0-9.]+)s\\)$");

  public static void main(String[] args) throws Exception {
    String preset = args.length > 0 ? args[0] : "rescaling";
    String scale = args.length > 1 ? args[1] : "quick";
    int slots = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    Path tmp = Path.of(args.length > 3 ? args[3] : "/tmp/pathsgd-throughput").toAbsolutePath();
    Path module = Files.isDirectory(Path.of("spark", "target")) ? Path.of("spark").toAbsolutePath()
        : Path.of("").toAbsolutePath();
    Path jar = module.resolve("target/pathsgd-spark.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + ": not built; expected mvn -pl spark -am package -DskipTests first");
    }
    Files.createDirectories(tmp);
    Path emb = Files.createTempDirectory(tmp, "embedded");

    ByteArrayOutputStream embLog = new ByteArrayOutputStream();
    long e0 = System.nanoTime();
    SweepRunner.Outcome eo = new SweepRunner(SweepSpec.load(preset), scale, 1, SweepRunner.Options.of(emb)
        .withJobs(slots).withLog(new PrintStream(embLog, true, StandardCharsets.UTF_8))).run();
    double embWall = (System.nanoTime() - e0) / 1e9;
    List<Double> embRuns = seconds(embLog.toString(StandardCharsets.UTF_8));

    Path home = SparkStandaloneIT.sparkHome(module, Files.createTempDirectory(tmp, "home"));
    int port = SparkStandaloneIT.freePort();
    List<Process> daemons = new ArrayList<>();
    Path out = Files.createTempDirectory(tmp, "spark").resolve("out");
    Path scratch = out.resolveSibling("scratch");
    Path logs = out.getParent();
    double sparkWall;
    String driverLog;
    try {
      daemons.add(SparkStandaloneIT.start(home, logs.resolve("master.log"), List.of(
          "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", String.valueOf(port),
          "--webui-port", String.valueOf(SparkStandaloneIT.freePort()))));
      SparkStandaloneIT.await(logs.resolve("master.log"), "I have been elected leader", 120);
      daemons.add(SparkStandaloneIT.start(home, logs.resolve("worker.log"), List.of(
          "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", String.valueOf(slots),
          "--memory", "4g", "--work-dir", logs.resolve("work").toString(), "--webui-port",
          String.valueOf(SparkStandaloneIT.freePort()), "spark://127.0.0.1:" + port)));
      SparkStandaloneIT.await(logs.resolve("worker.log"), "Successfully registered with master", 120);
      List<String> submit = SparkStandaloneIT.launcherCommand(home, List.of("org.apache.spark.deploy.SparkSubmit",
          "--master", "spark://127.0.0.1:" + port, "--deploy-mode", "client",
          "--class", "io.github.pathsgd.spark.SparkMain", "--driver-memory", "1g", "--executor-memory", "3g",
          "--conf", "spark.task.cpus=1", "--conf", "spark.task.maxFailures=4",
          "--conf", "spark.executorEnv.OPENBLAS_NUM_THREADS=1", "--conf", "spark.driver.host=127.0.0.1",
          "--conf", "spark.driver.bindAddress=127.0.0.1", "--conf", "spark.ui.enabled=false",
          jar.toString(), "experiments", "run", preset, "--scale", scale, "--out", out.toString(),
          "--scratch", scratch.toString()));
      ProcessBuilder pb = new ProcessBuilder(submit).redirectErrorStream(true)
          .redirectOutput(logs.resolve("driver.log").toFile());
      SparkStandaloneIT.env(pb, home);
      long s0 = System.nanoTime();
      Process driver = pb.start();
      daemons.add(driver);
      if (!driver.waitFor(3600, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the driver did not end within an hour; its log: " + logs.resolve(
            "driver.log"));
      }
      sparkWall = (System.nanoTime() - s0) / 1e9;
      driverLog = Files.readString(logs.resolve("driver.log"));
      if (driver.exitValue() != 0) {
        throw new IllegalStateException("the driver failed (exit " + driver.exitValue() + "): " + logs.resolve(
            "driver.log"));
      }
    } finally {
      for (int i = daemons.size() - 1; i >= 0; i--) {
        Process p = daemons.get(i);
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
      }
    }
    List<Double> tasks = seconds(driverLog);
    boolean same = Files.readString(out.resolve("metrics.csv")).equals(Files.readString(emb.resolve("metrics.csv")));
    int n = eo.planned();
    System.out.printf(Locale.ROOT, "%s --scale %s: %d runs, %d slots (embedded --jobs %d; worker --cores %d, "
        + "spark.task.cpus=1), one BLAS thread per run%n", preset, scale, n, slots, slots, slots);
    System.out.printf(Locale.ROOT, "embedded: %.1f s wall, %.0f runs/hour, run seconds %s%n", embWall,
        n / embWall * 3600, fmt(embRuns));
    System.out.printf(Locale.ROOT, "cluster:  %.1f s wall (submission to driver exit), %.0f runs/hour, task seconds "
        + "%s%n", sparkWall, n / sparkWall * 3600, fmt(tasks));
    System.out.printf(Locale.ROOT, "overhead per task: %.1f s of a slot ((cluster − embedded wall) × %d / %d); "
        + "in-task: %.1f s (mean task − mean embedded run); cluster/embedded wall %.2f%n",
        (sparkWall - embWall) * slots / n, slots, n, mean(tasks) - mean(embRuns), sparkWall / embWall);
    System.out.println("metrics.csv byte-identical: " + same);
    driverLog.lines().filter(l -> l.startsWith("phase") || l.startsWith("pathsgd-spark") || l.startsWith("["))
        .forEach(l -> System.out.println("  driver: " + l));
  }

  private static List<Double> seconds(String log) {
    List<Double> s = new ArrayList<>();
    for (String l : log.lines().toList()) {
      Matcher m = SECONDS.matcher(l.strip());
      if (m.find()) {
        s.add(Double.parseDouble(m.group(1)));
      }
    }
    return s;
  }

  private static double mean(List<Double> v) {
    return v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
  }

  private static String fmt(List<Double> v) {
    return v.stream().map(d -> String.format(Locale.ROOT, "%.1f", d)).toList() + String.format(Locale.ROOT,
        " (mean %.1f)", mean(v));
  }
}
