package io.github.pathsgd.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Spark standalone cluster on 127.0.0.1: a Master and a Worker started as child JVMs from Spark's deploy
 * classes (the project's Maven dependencies, laid out as a SPARK_HOME's {@code jars/}), the sweep submitted through
 * Spark's own submission path ({@code org.apache.spark.launcher.Main} builds the SparkSubmit command, as
 * {@code spark-class} does) with the application jar as built ({@code spark/target/pathsgd-spark.jar}, so this runs
 * after {@code package}: {@code mvn verify}), one executor killed while the sweep runs, and the combined files checked
 * against the embedded runner's, byte for byte.
 */
class SparkStandaloneIT {
  /** 6 runs of 4 epochs of a 2x256 network: long enough to kill an executor among them. */
  static final String SWEEP = """
      name: cluster
      description: cluster
      figure: rescaling
      base: {dataset: mnist-sample, hidden: [256, 256], per_class_train: 10, validation_size: 50, epochs: 4,
             batch_size: 10, seed: 3}
      grid:
        optimizer: [sgd, path-sgd]
        lr: [0.01, 0.05, 0.1]
      scales:
        smoke: {description: s}
        quick: {description: q}
        paper: {description: p}
      """;

  static final Path MODULE = Path.of("").toAbsolutePath();

  @Test
  void aSweepSubmittedToAStandaloneClusterSurvivesAKilledExecutorWithTheEmbeddedRunnersFiles(@TempDir Path tmp)
      throws Exception {
    Path jar = MODULE.resolve("target/pathsgd-spark.jar");
    Path sparkCp = MODULE.resolve("target/classpath-spark.txt");
    assumeTrue(Files.isRegularFile(jar) && Files.isRegularFile(sparkCp), "the application jar is built (mvn verify)");
    Path home = sparkHome(MODULE, tmp);
    Path yaml = tmp.resolve("cluster.yaml");
    Files.writeString(yaml, SWEEP);
    Path emb = tmp.resolve("embedded");
    long e0 = System.nanoTime();
    SparkSweepTest.embedded(SWEEP, emb);
    System.out.printf("embedded runner (--jobs 2): %.1f s%n", (System.nanoTime() - e0) / 1e9);

    int port = freePort();
    List<Process> daemons = new ArrayList<>();
    try {
      Process master = start(home, tmp.resolve("master.log"), List.of("org.apache.spark.deploy.master.Master",
          "--host", "127.0.0.1", "--port", String.valueOf(port), "--webui-port", String.valueOf(freePort())));
      daemons.add(master);
      await(tmp.resolve("master.log"), "I have been elected leader", 120);
      Process worker = start(home, tmp.resolve("worker.log"), List.of("org.apache.spark.deploy.worker.Worker",
          "--host", "127.0.0.1", "--cores", "2", "--memory", "2g", "--work-dir", tmp.resolve("work").toString(),
          "--webui-port", String.valueOf(freePort()), "spark://127.0.0.1:" + port));
      daemons.add(worker);
      await(tmp.resolve("worker.log"), "Successfully registered with master", 120);

      Path out = tmp.resolve("out");
      Path scratch = tmp.resolve("scratch");
      List<String> submit = launcherCommand(home, List.of("org.apache.spark.deploy.SparkSubmit",
          "--master", "spark://127.0.0.1:" + port, "--deploy-mode", "client",
          "--class", "io.github.pathsgd.spark.SparkMain", "--driver-memory", "1g", "--executor-memory", "1g",
          "--conf", "spark.task.cpus=1", "--conf", "spark.task.maxFailures=4",
          "--conf", "spark.executorEnv.OPENBLAS_NUM_THREADS=1", "--conf", "spark.driver.host=127.0.0.1",
          "--conf", "spark.driver.bindAddress=127.0.0.1", "--conf", "spark.ui.enabled=false",
          jar.toString(), "experiments", "run", yaml.toString(), "--scale", "smoke", "--out", out.toString(),
          "--scratch", scratch.toString()));
      ProcessBuilder pb = new ProcessBuilder(submit).redirectErrorStream(true)
          .redirectOutput(tmp.resolve("driver.log").toFile());
      env(pb, home);
      Process driver = pb.start();
      daemons.add(driver);
      // kill one executor once the first run is installed and others are still to come
      long installedAtKill = -1;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(400);
      while (driver.isAlive() && System.nanoTime() < deadline) {
        long installed = installed(out);
        Optional<ProcessHandle> executor = worker.descendants()
            .filter(h -> h.info().commandLine().orElse("").contains("CoarseGrainedExecutorBackend")).findFirst();
        if (installed >= 1 && executor.isPresent()) {
          installedAtKill = installed;
          executor.get().destroyForcibly();
          break;
        }
        Thread.sleep(100);
      }
      assertThat(driver.waitFor(400, TimeUnit.SECONDS)).as("the driver ends").isTrue();
      String log = Files.readString(tmp.resolve("driver.log"));
      System.out.println("executor killed with " + installedAtKill + " runs installed; the driver's lines:");
      log.lines().filter(l -> l.startsWith("[") || l.startsWith("pathsgd-spark") || l.startsWith("phase"))
          .forEach(System.out::println);
      assertThat(driver.exitValue()).as(log).isZero();
      assertThat(installedAtKill).as("an executor was killed mid-run").isBetween(1L, 5L);
      assertThat(log).contains("6 runs planned, 6 trained");
      for (String f : List.of("metrics.csv", "sweep.json")) {
        assertThat(Files.readString(out.resolve(f))).as(f).isEqualTo(Files.readString(emb.resolve(f)));
      }
      try (Stream<Path> s = Files.list(scratch.resolve("results"))) {
        assertThat(s.toList()).as("store entries removed once installed").isEmpty();
      }
    } finally {
      for (int i = daemons.size() - 1; i >= 0; i--) { // the driver first, the master last
        Process p = daemons.get(i);
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * A SPARK_HOME under {@code tmp} whose {@code jars/} links Spark's jars as Maven resolves them (the spark module's
   * {@code target/classpath-spark.txt}) and the few compile-scope ones Spark needs too.
   */
  static Path sparkHome(Path module, Path tmp) throws Exception {
    Path home = tmp.resolve("spark-home");
    Files.createDirectories(home.resolve("jars"));
    List<String> jars = new ArrayList<>(Arrays.asList(Files.readString(module.resolve("target/classpath-spark.txt"))
        .trim().split(File.pathSeparator)));
    for (String j : Files.readString(module.resolve("target/classpath-runtime.txt")).trim().split(File.pathSeparator)) {
      if (j.matches(".*/(jackson-(databind|core|annotations)|slf4j-api)-[^/]*\\.jar")) {
        jars.add(j);
      }
    }
    for (String j : jars) {
      Path p = Path.of(j);
      Path link = home.resolve("jars").resolve(p.getFileName());
      if (!Files.exists(link)) {
        Files.createSymbolicLink(link, p);
      }
    }
    return home;
  }

  static long installed(Path out) throws Exception {
    if (!Files.isDirectory(out.resolve("runs"))) {
      return 0;
    }
    try (Stream<Path> s = Files.list(out.resolve("runs"))) {
      return s.filter(d -> Files.exists(d.resolve("summary.json"))).count();
    }
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static void env(ProcessBuilder pb, Path home) {
    Map<String, String> e = pb.environment();
    e.put("SPARK_HOME", home.toString());
    e.put("SPARK_SCALA_VERSION", "2.13");
    e.put("SPARK_LOCAL_IP", "127.0.0.1");
    e.put("OPENBLAS_NUM_THREADS", "1");
    e.put("JAVA_HOME", System.getProperty("java.home"));
    e.remove("SPARK_CONF_DIR");
  }

  /** A daemon as {@code spark-class} starts it: the command {@code org.apache.spark.launcher.Main} builds. */
  static Process start(Path home, Path log, List<String> args) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(launcherCommand(home, args)).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    env(pb, home);
    return pb.start();
  }

  /** Asks Spark's launcher for the command of {@code args} (what {@code spark-class} execs). */
  static List<String> launcherCommand(Path home, List<String> args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx128m", "-cp", home.resolve("jars") + File.separator + "*", "org.apache.spark.launcher.Main"));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    env(pb, home);
    Process p = pb.start();
    byte[] outBytes = p.getInputStream().readAllBytes();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(err).isZero();
    List<String> built = new ArrayList<>();
    for (String t : new String(outBytes, StandardCharsets.UTF_8).split("\0")) {
      if (!t.isBlank()) {
        built.add(t.strip()); // the launcher's first token follows a line break
      }
    }
    return built;
  }

  static void await(Path log, String line, int seconds) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      if (Files.exists(log) && Files.readString(log).contains(line)) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("no '" + line + "' in " + log + " after " + seconds + " s:\n" + (Files.exists(log)
        ? Files.readString(log) : "(no log)"));
  }
}
