package io.github.pathsgd.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.pathsgd.experiments.config.ConfigHash;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import io.github.pathsgd.experiments.sweep.SweepTasks;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import scala.Tuple2;

/**
 * The sweep's result store: a folder named by a Hadoop-compatible URI ({@code file:///shared/mount/results},
 * {@code hdfs://nn/pathsgd/results}, {@code s3a://bucket/results}) that the driver and every executor reach, through
 * Hadoop's {@link FileSystem} API (Spark carries it). A task uploads its finished run folder's result files to
 * {@code STORE/<run_id>/attempt-<app>-<task>/} (its own folder: two attempts of one run never write the same file),
 * then commits it by creating {@code STORE/<run_id>/record.json} ({@link RunRecord}: run id, config hash, each file's
 * size and SHA-256) with {@code overwrite = false}: the first attempt to create it wins, a later one deletes its own
 * folder and takes the winner's record. The driver installs a run from the store only after its record names the
 * planned run (run id and full config hash) and every file's size and SHA-256 match the record, checked again while
 * the file is copied; then it deletes the run's entry. A model is streamed, never held whole in memory.
 */
final class ResultStore implements Serializable {
  private static final long serialVersionUID = 1L;
  static final String RECORD = "record.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String uri;
  private final TreeMap<String, String> hadoop;
  private transient FileSystem fs;

  private ResultStore(String uri, TreeMap<String, String> hadoop) {
    this.uri = uri.endsWith("/") ? uri.substring(0, uri.length() - 1) : uri;
    this.hadoop = hadoop;
  }

  /** The store at {@code uri}, with the Spark conf's {@code spark.hadoop.*} entries as its Hadoop settings. */
  static ResultStore of(String uri, SparkConf conf) {
    URI u = URI.create(uri);
    if (u.getScheme() == null) {
      throw new IllegalArgumentException("result store " + uri + ": expected a URI with a scheme (file:///shared/"
          + "results, hdfs://namenode/path, s3a://bucket/path)");
    }
    TreeMap<String, String> h = new TreeMap<>();
    for (Tuple2<String, String> kv : conf.getAllWithPrefix("spark.hadoop.")) {
      h.put(kv._1(), kv._2());
    }
    return new ResultStore(uri, h);
  }

  String uri() {
    return uri;
  }

  FileSystem fs() throws IOException {
    if (fs == null) {
      Configuration c = new Configuration();
      hadoop.forEach(c::set);
      fs = FileSystem.get(URI.create(uri), c);
    }
    return fs;
  }

  Path entry(String runId) {
    return new Path(uri + "/" + runId);
  }

  /**
   * Uploads the result files {@code names} of the finished run folder {@code dir} into this attempt's folder and
   * commits them; returns the committed record (this attempt's, or the one of an attempt that committed first).
   */
  RunRecord commit(SweepRun r, java.nio.file.Path dir, Set<String> names, String attemptTag, String host,
      int attempt, double seconds, int continuedAfter) throws IOException {
    FileSystem f = fs();
    Path e = entry(r.runId());
    String folder = "attempt-" + attemptTag.replaceAll("[^A-Za-z0-9_.-]", "_");
    Path mine = new Path(e, folder);
    f.mkdirs(mine);
    List<RunRecord.FileSum> sums = new ArrayList<>();
    for (String name : names) {
      MessageDigest md = sha256();
      long n = 0;
      try (InputStream in = new DigestInputStream(Files.newInputStream(dir.resolve(name)), md);
          OutputStream o = f.create(new Path(mine, name), true)) {
        n = in.transferTo(o);
      }
      sums.add(new RunRecord.FileSum(name, n, HexFormat.of().formatHex(md.digest())));
    }
    RunRecord rec = new RunRecord(r.index(), r.runId(), ConfigHash.configHash(r.config()), folder, List.copyOf(sums),
        host, attempt, seconds, continuedAfter);
    byte[] json = JSON.writeValueAsBytes(rec);
    try (OutputStream o = f.create(new Path(e, RECORD), false)) {
      o.write(json);
    } catch (FileAlreadyExistsException ex) {
      f.delete(mine, true); // another attempt committed first: its files are the run's
      RunRecord won = record(r.runId());
      if (won == null) {
        throw new IOException("result store " + e + ": " + RECORD + " exists but cannot be read", ex);
      }
      return won.seenBy(host, attempt, seconds);
    } catch (IOException ex) {
      if (f.exists(new Path(e, RECORD)) && !f.exists(mine)) {
        throw ex;
      }
      if (f.exists(new Path(e, RECORD))) { // the same race on a file system that does not say which exception
        RunRecord won = record(r.runId());
        if (won != null && !won.folder().equals(folder)) {
          f.delete(mine, true);
          return won.seenBy(host, attempt, seconds);
        }
      }
      throw ex;
    }
    return rec;
  }

  /** The committed record of run {@code runId}, or null when none is committed. */
  RunRecord record(String runId) throws IOException {
    Path p = new Path(entry(runId), RECORD);
    FileSystem f = fs();
    if (!f.exists(p)) {
      return null;
    }
    try (InputStream in = f.open(p)) {
      return JSON.readValue(in.readNBytes(1 << 20), RunRecord.class);
    } catch (IOException ex) {
      throw new IOException("result store " + p + ": not a record of this version (" + ex.getMessage().lines()
          .findFirst().orElse("") + "); expected {\"runId\", \"configHash\", \"folder\", \"files\", ...}", ex);
    }
  }

  /** Whether the store has an entry (committed or not) for run {@code runId}. */
  boolean has(String runId) throws IOException {
    return fs().exists(entry(runId));
  }

  /**
   * What is wrong with committed record {@code rec} for the planned run {@code r} (another run, another config hash,
   * a file list that is not a result), or null when it names the planned run; the files' sizes and SHA-256 are
   * checked as they are read ({@link #open}).
   */
  static String mismatch(RunRecord rec, SweepRun r) {
    String want = ConfigHash.configHash(r.config());
    if (!r.runId().equals(rec.runId())) {
      return "its record.json is of run " + rec.runId() + ", expected " + r.runId();
    }
    if (!want.equals(rec.configHash())) {
      return "its record.json has configHash " + rec.configHash() + ", expected the planned run's " + want;
    }
    Set<String> names = rec.files() == null ? Set.of() : names(rec);
    if (rec.folder() == null || rec.folder().contains("/") || !names.contains(SweepTasks.MISSING_JSON)
        && !names.containsAll(SweepTasks.RESULT_FILES)) {
      return "its record.json lists " + names + " in folder " + rec.folder() + ", expected " + SweepTasks.RESULT_FILES
          + " in an attempt folder";
    }
    return null;
  }

  static Set<String> names(RunRecord rec) {
    Set<String> s = new LinkedHashSet<>();
    rec.files().forEach(f -> s.add(f.name()));
    return s;
  }

  /**
   * Opens result file {@code name} of committed record {@code rec}: a stream that throws at its end when the bytes
   * read differ in size or SHA-256 from the record.
   */
  InputStream open(RunRecord rec, String name) throws IOException {
    RunRecord.FileSum sum = rec.files().stream().filter(s -> s.name().equals(name)).findFirst()
        .orElseThrow(() -> new IOException("run " + rec.runId() + ": " + name + " is not in its record"));
    Path p = new Path(new Path(entry(rec.runId()), rec.folder()), name);
    MessageDigest md = sha256();
    InputStream raw = fs().open(p);
    return new FilterInputStream(new DigestInputStream(raw, md)) {
      private long n;
      private boolean checked;

      @Override
      public int read() throws IOException {
        int b = super.read();
        count(b < 0 ? -1 : 1);
        return b;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int k = super.read(b, off, len);
        count(k);
        return k;
      }

      private void count(int k) throws IOException {
        if (k >= 0) {
          n += k;
          if (n > sum.bytes()) {
            throw new IOException(p + ": longer than the " + sum.bytes() + " bytes its record says");
          }
          return;
        }
        if (!checked) {
          checked = true;
          String got = HexFormat.of().formatHex(md.digest());
          if (n != sum.bytes() || !got.equals(sum.sha256())) {
            throw new IOException(p + ": " + n + " bytes with sha256 " + got + ", expected the " + sum.bytes()
                + " bytes with sha256 " + sum.sha256() + " its record says");
          }
        }
      }
    };
  }

  /** Deletes run {@code runId}'s record.json only (a record that does not belong to the run). */
  void deleteRecord(String runId) throws IOException {
    fs().delete(new Path(entry(runId), RECORD), false);
  }

  /** Deletes run {@code runId}'s entry (its attempt folders and record). */
  void delete(String runId) {
    try {
      fs().delete(entry(runId), true);
    } catch (IOException e) {
      throw new UncheckedIOException("result store " + entry(runId) + ": cannot delete: " + e.getMessage(), e);
    }
  }

  /**
   * Where a halving rung's run keeps its {@link SweepTasks#CONTINUE} for the next rung's run: {@code
   * STORE/continue/<run_id>.bin} (the checkpoint carries its config hash and a CRC, checked where it is used).
   */
  Path continuation(String runId) {
    return new Path(uri + "/" + CONTINUE + "/" + runId + ".bin");
  }

  /** The folder of the continuation checkpoints (not a run id: never taken for a run's entry). */
  static final String CONTINUE = "continue";

  /** Uploads run {@code runId}'s continue.bin (under a temporary name, then renamed: never seen half-written). */
  void putContinuation(String runId, java.nio.file.Path file, String attemptTag) throws IOException {
    FileSystem f = fs();
    Path to = continuation(runId);
    Path tmp = new Path(to.getParent(), "." + runId + "." + attemptTag.replaceAll("[^A-Za-z0-9_.-]", "_") + ".tmp");
    f.mkdirs(to.getParent());
    try (InputStream in = Files.newInputStream(file); OutputStream o = f.create(tmp, true)) {
      in.transferTo(o);
    }
    f.delete(to, false); // an earlier attempt's: the same training, the same bytes
    if (!f.rename(tmp, to)) {
      f.delete(tmp, false);
      if (!f.exists(to)) {
        throw new IOException("result store " + to + ": cannot rename " + tmp + " to it");
      }
    }
  }

  /** Copies run {@code runId}'s continuation checkpoint to {@code to}; false when the store has none. */
  boolean fetchContinuation(String runId, java.nio.file.Path to) throws IOException {
    Path p = continuation(runId);
    FileSystem f = fs();
    if (!f.exists(p)) {
      return false;
    }
    try (InputStream in = f.open(p)) {
      Files.copy(in, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    return true;
  }

  /** Deletes run {@code runId}'s continuation checkpoint, if any. */
  void deleteContinuation(String runId) {
    try {
      fs().delete(continuation(runId), false);
    } catch (IOException e) {
      throw new UncheckedIOException("result store " + continuation(runId) + ": cannot delete: " + e.getMessage(), e);
    }
  }

  /** A {@link SweepTasks.Source} over committed record {@code rec}'s files, each checked while it is read. */
  SweepTasks.Source source(RunRecord rec) {
    return name -> open(rec, name);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
