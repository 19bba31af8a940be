package io.github.pathsgd.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.pathsgd.experiments.config.ConfigHash;
import io.github.pathsgd.experiments.sweep.SweepPlan;
import io.github.pathsgd.experiments.sweep.SweepRunner;
import io.github.pathsgd.experiments.sweep.SweepSpec;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import io.github.pathsgd.experiments.sweep.SweepTasks;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Benchmark (not a CI test: it writes N x MODEL_MB through the disk): a phase of N runs whose finished run folders
 * (fake ones: a real tiny run's files renamed to each planned run, with a sparse model file of MODEL_MB) sit committed
 * in a file:// result store; every run goes through a Spark task (which finds it committed and hands back its
 * record), and the driver installs each into --out, streaming the model and checking its SHA-256. Prints the driver
 * JVM's peak heap (all heap pools' peaks) and its live heap after the phase; run it under /usr/bin/time -v for the
 * peak RSS. Local mode: the executor threads share this JVM, so the numbers bound the driver's from above.
 *
 * <p>{@code java -Xmx1g ... StoreDriverMemoryBench N MODEL_MB WORKDIR [drop]}: with {@code drop}, a watcher deletes
 * each installed model once the driver has deleted its store entry (so that 1,000 x 50 MB need not be on disk at once).
 */
public final class StoreDriverMemoryBench {
  /**
   * A safetensors file of {@code bytes} bytes naming run {@code runId}: its header, then one F32 tensor of zeros left
   * as a hole (sparse: no disk used); returns its SHA-256.
   */
  static String fakeModel(Path f, String runId, long bytes) throws Exception {
    int hlen = 256;
    long data = bytes - 8 - hlen;
    String h = "{\"__metadata__\":{\"pathsgd_run_id\":\"" + runId + "\"},\"layers.0.weight\":{\"dtype\":\"F32\","
        + "\"shape\":[" + data / 4 + "],\"data_offsets\":[0," + data + "]}}";
    byte[] header = (h + " ".repeat(hlen - h.length())).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    java.nio.ByteBuffer len = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, hlen);
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    md.update(len.array());
    md.update(header);
    byte[] zeros = new byte[1 << 20];
    for (long k = 0; k < data; k += zeros.length) {
      md.update(zeros, 0, (int) Math.min(zeros.length, data - k));
    }
    try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
      r.write(len.array());
      r.write(header);
      r.setLength(bytes);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  public static void main(String[] args) throws Exception {
    int n = Integer.parseInt(args[0]);
    long modelBytes = Long.parseLong(args[1]) << 20;
    Path work = Path.of(args[2]).toAbsolutePath();
    boolean drop = args.length > 3 && args[3].equals("drop");
    Files.createDirectories(work);
    String base = "base: {dataset: mnist-sample, hidden: [8], per_class_train: 2, validation_size: 20, epochs: 1,"
        + " batch_size: 10, seed: 3}\n";
    String scales = "scales:\n  smoke: {description: s}\n  quick: {description: q}\n  paper: {description: p}\n";
    StringJoiner lrs = new StringJoiner(", ", "[", "]");
    for (int i = 0; i < n; i++) {
      lrs.add(String.format(Locale.ROOT, "%.6f", 0.0001 * (i + 1)));
    }
    String yaml = "name: bench\ndescription: bench\nfigure: rescaling\n" + base + "grid:\n  lr: " + lrs + "\n"
        + scales;
    // one real run: the template of every fake run folder
    Path tpl = work.resolve("template");
    String one = "name: one\ndescription: one\nfigure: rescaling\n" + base + "grid:\n  lr: [0.0001]\n" + scales;
    new SweepRunner(SweepSpec.parse(one, "bench"), "smoke", 1, SweepRunner.Options.of(tpl).withJobs(1)).run();
    SweepSpec spec = SweepSpec.parse(yaml, "bench");
    List<SweepRun> plan = new SweepPlan(spec, "smoke", 1, null, 1).first();
    SweepRun first = plan.get(0);
    Path tdir = tpl.resolve("runs").resolve(first.runId());
    ObjectMapper json = new ObjectMapper();
    JsonNode cfg = json.readTree(tdir.resolve("config.json").toFile());
    JsonNode sum = json.readTree(tdir.resolve("summary.json").toFile());
    String metrics = Files.readString(tdir.resolve("metrics.csv"));
    Path store = work.resolve("store");
    long t0 = System.nanoTime();
    for (SweepRun r : plan) {
      Path d = store.resolve(r.runId()).resolve("attempt-bench");
      Files.createDirectories(d);
      ObjectNode c = cfg.deepCopy();
      c.put("run_id", r.runId());
      c.put("config_hash", ConfigHash.configHash(r.config()));
      ((ObjectNode) c.get("config")).put("lr", r.config().lr());
      ObjectNode s = sum.deepCopy();
      s.put("run_id", r.runId());
      ObjectNode m = json.createObjectNode();
      m.put("file", SweepTasks.MODEL);
      m.put("bytes", modelBytes);
      m.put("sha256", fakeModel(d.resolve(SweepTasks.MODEL), r.runId(), modelBytes));
      s.set("model", m);
      Files.write(d.resolve("config.json"), json.writeValueAsBytes(c));
      Files.writeString(d.resolve("metrics.csv"), metrics.replace(first.runId(), r.runId()));
      Files.write(d.resolve("summary.json"), json.writeValueAsBytes(s));
      List<RunRecord.FileSum> sums = new java.util.ArrayList<>();
      for (String name : List.of("config.json", "metrics.csv", SweepTasks.MODEL, "summary.json")) {
        sums.add(new RunRecord.FileSum(name, Files.size(d.resolve(name)), name.equals(SweepTasks.MODEL) ? m.get("sha256").asText()
            : HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(
                d.resolve(name))))));
      }
      RunRecord rec = new RunRecord(r.index(), r.runId(), ConfigHash.configHash(r.config()), "attempt-bench", sums,
          "bench", 0, 0, 0);
      Files.write(store.resolve(r.runId()).resolve(ResultStore.RECORD), json.writeValueAsBytes(rec));
    }
    System.out.printf(Locale.ROOT, "store: %d fake run folders with %d MB models written in %.1fs%n", n,
        modelBytes >> 20, (System.nanoTime() - t0) / 1e9);
    Path out = work.resolve("out");
    Thread watcher = null;
    if (drop) {
      watcher = new Thread(() -> {
        while (!Thread.currentThread().isInterrupted()) {
          try (Stream<Path> runs = Files.list(out.resolve("runs"))) {
            // installed: summary.json written and the store entry deleted (the driver's last step for a run)
            runs.filter(d -> Files.exists(d.resolve("summary.json"))
                && !Files.exists(store.resolve(d.getFileName().toString()))).forEach(d -> {
              try {
                Files.deleteIfExists(d.resolve(SweepTasks.MODEL));
              } catch (Exception e) {
                // next round
              }
            });
            Thread.sleep(200);
          } catch (InterruptedException e) {
            return;
          } catch (Exception e) {
            // runs/ not there yet
          }
        }
      });
      watcher.setDaemon(true);
      watcher.start();
    }
    SparkConf conf = new SparkConf().setAppName("pathsgd-bench").setMaster("local[2,2]")
        .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
        .set("spark.driver.bindAddress", "127.0.0.1").set("spark.driver.maxResultSize", "1m")
        .set(SparkSweep.NO_STORE_SCAN, "true");
    SparkSweep.Outcome o;
    long t1;
    long live;
    try (JavaSparkContext sc = new JavaSparkContext(conf)) {
      sc.setLogLevel("WARN");
      System.gc();
      for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
        p.resetPeakUsage();
      }
      t1 = System.nanoTime();
      o = new SparkSweep(spec, "smoke", 1, new SparkSweep.Options(out, 1, null, work.resolve("scratch"), null,
          store.toUri().toString())).run(sc);
      System.gc();
      live = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
    double secs = (System.nanoTime() - t1) / 1e9;
    if (watcher != null) {
      watcher.interrupt();
    }
    long peak = 0;
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP) {
        peak += p.getPeakUsage().getUsed();
      }
    }
    long left;
    try (Stream<Path> s = Files.list(store)) {
      left = s.count();
    }
    System.out.printf(Locale.ROOT, "phase: %d runs planned, %d installed through Spark tasks (%d already done) in "
        + "%.1fs, %.1f MB/s; spark.driver.maxResultSize=1m; heap max %d MB, peak used (sum of heap pools' peaks) "
        + "%.1f MB, live after the phase %.1f MB; store entries left %d%n", o.planned(), o.trained(), o.skipped(),
        secs, n * (double) (modelBytes >> 20) / secs, Runtime.getRuntime().maxMemory() >> 20, peak / 1048576.0,
        live / 1048576.0, left);
  }
}
