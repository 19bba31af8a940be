package io.github.pathsgd.experiments.sweep;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.core.geometry.ModelNorms;
import io.github.pathsgd.experiments.config.ConfigHash;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.config.TrainConfig;
import io.github.pathsgd.experiments.rundir.MetricsCsv;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a run folder ({@code OUT/runs/<run_id>/}) holds, checked.
 *
 * <p>A run counts as finished only when its files agree: summary.json parses, names the run and has a known status
 * (completed or diverged) and {@code epochs_completed == final.epoch}; config.json parses, names the run and carries
 * the run's config hash, and its {@code config} block hashes to it; metrics.csv parses strictly ({@link
 * MetricsCsv#parse}), has every epoch 0..final.epoch and nothing after, the final figures of summary.json at the final
 * epoch, train seconds that add up to {@code train_seconds}, and, when it has rows of the split {@code model}, all
 * six norms at the final epoch; and when summary.json records the model ({@code "model": {"file", "bytes", "sha256"}},
 * written since sweeps record it), model.safetensors is a regular file of that size whose header names the run and
 * whose tensors end at the file's end, so a deleted or replaced model makes the run damaged, not done (summaries of
 * earlier sweeps record no model and are checked without it). Anything else with a summary.json is damaged: the
 * sweep moves the run's result files into {@code damaged-<time>/} in the run folder (nothing is deleted) and trains
 * the run again. A folder without summary.json is unfinished (or has never started); one with only a readable
 * missing.json recorded absent data.
 */
final class RunFolder {
  private RunFolder() {}

  static final String SUMMARY = "summary.json";
  static final String CONFIG = "config.json";
  static final String METRICS = "metrics.csv";
  static final String MISSING_JSON = "missing.json";
  static final String CHECKPOINT = "checkpoint.bin";

  /** The run's final network (written before summary.json), so that {@code pathsgd norms} works on sweep results. */
  static final String MODEL = "model.safetensors";

  /** The files a finished run's result consists of, moved aside together when it is damaged. */
  static final List<String> RESULT_FILES = List.of(SUMMARY, CONFIG, METRICS, MODEL);

  private static final long MAX_JSON = 16L << 20;
  private static final long MAX_CSV = 512L << 20;
  private static final Set<String> STATUSES = Set.of(SweepRunner.COMPLETED, SweepRunner.DIVERGED);
  private static final String[][] FINAL_FIGURES = {
    {"train_loss", "train", "loss"}, {"train_error", "train", "error"},
    {"validation_loss", "validation", "loss"}, {"validation_error", "validation", "error"},
    {"test_loss", "test", "loss"}, {"test_error", "test", "error"}};

  enum Kind {
    /** No summary.json and no usable missing.json: never started, or unfinished (maybe with a checkpoint). */
    UNFINISHED,
    /** Finished and intact. */
    FINISHED,
    /** A summary.json that does not agree with the run's files. */
    DAMAGED,
    /** Recorded as without data (missing.json). */
    MISSING_DATA
  }

  /**
   * A run folder's state.
   *
   * @param problem what is wrong (DAMAGED), e.g. "summary.json: empty file"
   * @param json summary.json (FINISHED) or missing.json (MISSING_DATA)
   * @param config config.json (FINISHED)
   * @param metrics the rows of metrics.csv (FINISHED)
   */
  record State(Kind kind, String problem, JsonNode json, JsonNode config, List<MetricsCsv.Row> metrics) {
    boolean finished() {
      return kind == Kind.FINISHED;
    }
  }

  /** Checks the folder of run {@code r} against r's id and config. */
  static State inspect(Path dir, SweepRun r) {
    Path summary = dir.resolve(SUMMARY);
    if (!Files.exists(summary, LinkOption.NOFOLLOW_LINKS)) {
      Path missing = dir.resolve(MISSING_JSON);
      if (Files.exists(missing, LinkOption.NOFOLLOW_LINKS)) {
        try {
          JsonNode m = readJson(missing, MISSING_JSON);
          if (r.runId().equals(m.path("run_id").asText(null))
              && SweepRunner.MISSING.equals(m.path("status").asText(null))) {
            return new State(Kind.MISSING_DATA, null, m, null, null);
          }
        } catch (Damage e) {
          // an unreadable note about absent data: try the data again
        }
      }
      return new State(Kind.UNFINISHED, null, null, null, null);
    }
    try {
      return check(dir, r);
    } catch (Damage e) {
      return new State(Kind.DAMAGED, e.getMessage(), null, null, null);
    }
  }

  /** A file that does not hold what it should; the message names the file and what was expected. */
  private static final class Damage extends Exception {
    Damage(String m) {
      super(m, null, false, false);
    }
  }

  private static State check(Path dir, SweepRun r) throws Damage {
    JsonNode s = readJson(dir.resolve(SUMMARY), SUMMARY);
    if (!s.isObject()) {
      throw new Damage(SUMMARY + ": expected a JSON object, got " + type(s));
    }
    expectRunId(s, SUMMARY, r.runId());
    String status = s.path("status").asText("");
    if (!s.path("status").isTextual() || !STATUSES.contains(status)) {
      throw new Damage(SUMMARY + ": expected status completed or diverged, got " + s.path("status"));
    }
    int epochs = intField(s.path("epochs_completed"), SUMMARY, "epochs_completed");
    JsonNode fin = s.path("final");
    int finalEpoch = intField(fin.path("epoch"), SUMMARY, "final.epoch");
    if (finalEpoch != epochs) {
      throw new Damage(SUMMARY + ": final.epoch " + finalEpoch + " differs from epochs_completed " + epochs);
    }

    JsonNode c = readJson(dir.resolve(CONFIG), CONFIG);
    if (!c.isObject()) {
      throw new Damage(CONFIG + ": expected a JSON object, got " + type(c));
    }
    expectRunId(c, CONFIG, r.runId());
    String hash = ConfigHash.configHash(r.config());
    if (!hash.equals(c.path("config_hash").asText(null))) {
      throw new Damage(CONFIG + ": expected config_hash " + hash + ", got " + c.path("config_hash"));
    }
    String stored;
    try {
      stored = ConfigHash.configHash(Configs.json().treeToValue(c.path("config"), TrainConfig.class));
    } catch (JsonProcessingException | RuntimeException e) {
      throw new Damage(CONFIG + ": config is not a valid training config (" + oneLine(e.getMessage()) + ")");
    }
    if (!hash.equals(stored)) {
      throw new Damage(CONFIG + ": the config block hashes to " + stored.substring(0, 12) + ", not to the run id "
          + r.runId());
    }

    List<MetricsCsv.Row> rows = readMetrics(dir.resolve(METRICS), r.runId());
    Map<String, Double> atFinal = new HashMap<>();
    TreeSet<Integer> present = new TreeSet<>();
    double seconds = 0;
    for (MetricsCsv.Row row : rows) {
      if (row.epoch() > finalEpoch) {
        throw new Damage(METRICS + ": has epoch " + row.epoch() + ", after the final epoch " + finalEpoch
            + " of " + SUMMARY);
      }
      present.add(row.epoch());
      if (row.epoch() == finalEpoch) {
        atFinal.put(row.split() + "/" + row.metric(), row.value());
      }
      if (row.split().equals("train") && row.metric().equals("seconds")) {
        seconds += row.value();
      }
    }
    int e = 0;
    for (int x : present) {
      if (x != e) {
        break;
      }
      e++;
    }
    if (e <= finalEpoch) {
      throw new Damage(METRICS + ": no rows for epoch " + e + " (" + SUMMARY + " says " + finalEpoch
          + " epochs; the file was cut short?)");
    }
    for (String[] f : FINAL_FIGURES) {
      JsonNode v = fin.path(f[0]);
      Double csv = atFinal.get(f[1] + "/" + f[2]);
      double want = jsonNumber(v);
      if (v.isMissingNode() || v.isNull()) {
        if (csv != null) {
          throw new Damage(METRICS + ": epoch " + finalEpoch + " " + f[1] + " " + f[2] + " is " + csv + ", "
              + SUMMARY + " final." + f[0] + " is null");
        }
      } else if (Double.isNaN(want)) {
        throw new Damage(SUMMARY + ": expected a number, \"inf\" or \"-inf\" as final." + f[0] + ", got " + v);
      } else if (csv == null || !close(csv, want)) {
        throw new Damage(METRICS + ": epoch " + finalEpoch + " " + f[1] + " " + f[2] + " is "
            + (csv == null ? "missing" : MetricsCsv.format(csv)) + ", " + SUMMARY + " final." + f[0] + " is "
            + MetricsCsv.format(want));
      }
    }
    if (rows.stream().anyMatch(row -> row.split().equals(MetricsCsv.MODEL))) {
      // a run that records norms has all six at its final epoch (folders of runs before them have none); an rnn's
      // spectral norm product is not defined (NaN, never written: docs/rnn.md)
      List<String> lay = r.config().resolve().layers();
      boolean rnn = lay != null && lay.get(0).startsWith("rnn(");
      for (String n : ModelNorms.NAMES) {
        if (rnn && n.equals("spectral_norm_product")) {
          continue;
        }
        if (!atFinal.containsKey(MetricsCsv.MODEL + "/" + n)) {
          throw new Damage(METRICS + ": epoch " + finalEpoch + " model " + n + " is missing (the earlier epochs "
              + "have the model split's norms; the file was cut short?)");
        }
      }
    }
    checkModel(dir, s.path("model"), r.runId());
    JsonNode ts = s.path("train_seconds");
    if (ts.isNumber() && !close(seconds, ts.asDouble())) {
      throw new Damage(METRICS + ": train seconds add up to " + MetricsCsv.format(seconds) + ", " + SUMMARY
          + " train_seconds is " + MetricsCsv.format(ts.asDouble()));
    }
    return new State(Kind.FINISHED, null, s, c, rows);
  }

  /**
   * The model a summary.json names ({@code "model": {"file", "bytes", "sha256"}}, written by sweeps since the model
   * entry was added; older summaries have none and are not checked): model.safetensors must be a regular file of the
   * recorded size whose safetensors header is a JSON object naming the run ({@code pathsgd_run_id}) and whose
   * tensors end at the file's end. The SHA-256 is recorded, not recomputed here (it would read every model of the
   * sweep after every run).
   */
  private static void checkModel(Path dir, JsonNode m, String runId) throws Damage {
    if (m.isMissingNode()) {
      return;
    }
    if (!m.isObject() || !MODEL.equals(m.path("file").asText(null)) || !m.path("bytes").canConvertToLong()
        || !m.path("bytes").isIntegralNumber() || !m.path("sha256").isTextual()) {
      throw new Damage(SUMMARY + ": expected model {\"file\": \"" + MODEL + "\", \"bytes\": N, \"sha256\": HEX}, got "
          + oneLine(m.toString()));
    }
    long bytes = m.path("bytes").asLong();
    Path f = dir.resolve(MODEL);
    if (!Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
      throw new Damage(MODEL + ": missing (" + SUMMARY + " records a model of " + bytes + " bytes)");
    }
    if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
      throw new Damage(MODEL + ": not a regular file" + (Files.isSymbolicLink(f) ? " (a symbolic link)" : ""));
    }
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f,
        java.nio.file.StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
      long size = ch.size();
      if (size != bytes) {
        throw new Damage(MODEL + ": " + size + " bytes, " + SUMMARY + " records " + bytes);
      }
      java.nio.ByteBuffer len = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      readFully(ch, len, 0);
      long n = len.getLong(0);
      if (n < 2 || n > Math.min(MAX_JSON, size - 8)) {
        throw new Damage(MODEL + ": not a safetensors file (header length " + n + " in a file of " + size
            + " bytes)");
      }
      java.nio.ByteBuffer h = java.nio.ByteBuffer.allocate((int) n);
      readFully(ch, h, 8);
      JsonNode header;
      try {
        header = Configs.json().readTree(h.array());
      } catch (IOException e) {
        throw new Damage(MODEL + ": not a safetensors file (its header is not JSON: " + oneLine(jsonMessage(e)) + ")");
      }
      if (header == null || !header.isObject()) {
        throw new Damage(MODEL + ": not a safetensors file (its header is not a JSON object)");
      }
      String named = header.path("__metadata__").path("pathsgd_run_id").asText(null);
      if (!runId.equals(named)) {
        throw new Damage(MODEL + ": expected pathsgd_run_id " + runId + " in its metadata, got " + named);
      }
      long end = 0;
      for (var it = header.fields(); it.hasNext(); ) {
        var e = it.next();
        JsonNode o = e.getValue().path("data_offsets");
        if (!e.getKey().equals("__metadata__") && o.isArray() && o.size() == 2) {
          end = Math.max(end, o.get(1).asLong());
        }
      }
      if (8 + n + end != size) {
        throw new Damage(MODEL + ": its tensors end at byte " + (8 + n + end) + ", the file has " + size);
      }
    } catch (IOException e) {
      throw new Damage(MODEL + ": cannot read (" + oneLine(e.getMessage()) + ")");
    }
  }

  private static void readFully(java.nio.channels.FileChannel ch, java.nio.ByteBuffer b, long pos) throws IOException,
      Damage {
    while (b.hasRemaining()) {
      if (ch.read(b, pos + b.position()) < 0) {
        throw new Damage(MODEL + ": cut short at byte " + (pos + b.position()));
      }
    }
  }

  /** Equal up to the last few bits (the files hold shortest round-trip decimals, so normally exactly equal). */
  private static boolean close(double a, double b) {
    if (a == b || !Double.isFinite(a) || !Double.isFinite(b)) {
      return a == b;
    }
    return Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b));
  }

  private static double jsonNumber(JsonNode v) {
    if (v.isNumber()) {
      return v.asDouble();
    }
    if (v.isTextual()) {
      return v.asText().equals("inf") ? Double.POSITIVE_INFINITY
          : v.asText().equals("-inf") ? Double.NEGATIVE_INFINITY : Double.NaN;
    }
    return Double.NaN;
  }

  private static String type(JsonNode n) {
    return n.getNodeType().toString().toLowerCase(Locale.ROOT);
  }

  private static void expectRunId(JsonNode n, String file, String runId) throws Damage {
    if (!runId.equals(n.path("run_id").asText(null))) {
      throw new Damage(file + ": expected run_id " + runId + ", got " + n.path("run_id"));
    }
  }

  private static int intField(JsonNode n, String file, String name) throws Damage {
    if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 0) {
      throw new Damage(file + ": expected a non-negative integer " + name + ", got " + n);
    }
    return n.asInt();
  }

  private static byte[] readRegular(Path f, String name, long max) throws Damage {
    if (!Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
      throw new Damage(name + ": missing");
    }
    if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
      throw new Damage(name + ": not a regular file" + (Files.isSymbolicLink(f) ? " (a symbolic link)" : ""));
    }
    try {
      long size = Files.size(f);
      if (size == 0) {
        throw new Damage(name + ": empty file");
      }
      if (size > max) {
        throw new Damage(name + ": " + size + " bytes, more than the " + max + " a run's " + name + " can have");
      }
      return Files.readAllBytes(f);
    } catch (IOException e) {
      throw new Damage(name + ": cannot read (" + oneLine(e.getMessage()) + ")");
    }
  }

  private static JsonNode readJson(Path f, String name) throws Damage {
    byte[] b = readRegular(f, name, MAX_JSON);
    try {
      JsonNode n = Configs.json().readTree(b);
      if (n == null || n.isMissingNode()) {
        throw new Damage(name + ": no JSON value");
      }
      return n;
    } catch (IOException e) {
      throw new Damage(name + ": not valid JSON (" + oneLine(jsonMessage(e)) + ")");
    }
  }

  private static List<MetricsCsv.Row> readMetrics(Path f, String runId) throws Damage {
    byte[] b = readRegular(f, METRICS, MAX_CSV);
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(b)).toString();
    } catch (CharacterCodingException e) {
      throw new Damage(METRICS + ": not UTF-8 text");
    }
    try {
      return MetricsCsv.parse(text, METRICS, runId);
    } catch (IllegalArgumentException e) {
      throw new Damage(e.getMessage());
    }
  }

  private static String jsonMessage(IOException e) {
    return e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
  }

  private static String oneLine(String s) {
    if (s == null) {
      return "no detail";
    }
    String t = s.replace('\n', ' ').replace('\r', ' ');
    return t.length() <= 160 ? t : t.substring(0, 157) + "...";
  }

  /**
   * Moves a damaged run's result files (those of {@link #RESULT_FILES} that exist) into a new {@code
   * damaged-<UTC time>/} folder inside the run folder, so the run can be trained again without losing them. The
   * checkpoint stays: training resumes from it if it belongs to this config. Call only while holding the run's lock.
   *
   * @return the folder the files went to
   */
  static Path moveAside(Path dir) {
    String stamp = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'"));
    try {
      Path to = dir.resolve("damaged-" + stamp);
      for (int i = 2; Files.exists(to, LinkOption.NOFOLLOW_LINKS); i++) {
        to = dir.resolve("damaged-" + stamp + "-" + i);
      }
      Files.createDirectory(to);
      for (String name : RESULT_FILES) {
        Path f = dir.resolve(name);
        if (Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
          Files.move(f, to.resolve(name), StandardCopyOption.ATOMIC_MOVE);
        }
      }
      return to;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot move the damaged files of " + dir + " aside: " + e.getMessage(), e);
    }
  }
}
