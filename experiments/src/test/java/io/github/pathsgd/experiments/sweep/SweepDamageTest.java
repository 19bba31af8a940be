package io.github.pathsgd.experiments.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged per-run files: a rerun moves them aside (nothing deleted) and trains the run again, or names the run when
 * it belongs to another shard; the combined files never lose a run that is intact on disk.
 */
class SweepDamageTest {
  @TempDir static Path shared;
  static Path tiny;
  static Path compare;

  /** One finished sweep of each kind, copied for every test. */
  @BeforeAll
  static void sweeps() {
    tiny = shared.resolve("tiny");
    SweepRunnerTest.runner(tiny, SweepRunner.Options.of(tiny)).run();
    compare = shared.resolve("compare");
    SweepRunner.Outcome o = compareRunner(SweepRunner.Options.of(compare)).run();
    assertThat(o.planned()).isEqualTo(12);
  }

  static SweepRunner compareRunner(SweepRunner.Options o) {
    return new SweepRunner(SweepSpec.load("compare"), "smoke", 1, o);
  }

  static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path q = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(q);
        } else {
          Files.copy(p, q, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
  }

  static Path run(Path out, SweepRun r) {
    return out.resolve("runs").resolve(r.runId());
  }

  static Path damagedFolder(Path out, SweepRun r) throws IOException {
    try (Stream<Path> s = Files.list(run(out, r))) {
      List<Path> d = s.filter(p -> p.getFileName().toString().startsWith("damaged-")).toList();
      assertThat(d).as("damaged-* folders of " + r.runId()).hasSize(1);
      return d.get(0);
    }
  }

  @Test
  void damagedRunsAreMovedAsideAndTrainedAgain(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("out");
    copy(tiny, out);
    List<SweepRun> plan = SweepRunnerTest.runner(out, SweepRunner.Options.of(out)).plan();
    // 0: empty summary.json; 2: metrics.csv cut mid-row; 4: metrics.csv cut at a row boundary (its last 3 rows);
    // 5: garbage config.json; 6: summary.json with status ""; 7: config.json of another run
    Files.write(run(out, plan.get(0)).resolve("summary.json"), new byte[0]);
    Path m2 = run(out, plan.get(2)).resolve("metrics.csv");
    byte[] full2 = Files.readAllBytes(m2);
    byte[] cut2 = java.util.Arrays.copyOf(full2, full2.length - 7);
    Files.write(m2, cut2);
    Path m4 = run(out, plan.get(4)).resolve("metrics.csv");
    List<String> rows4 = Files.readAllLines(m4);
    Files.writeString(m4, String.join("\n", rows4.subList(0, rows4.size() - 3)) + "\n");
    Files.writeString(run(out, plan.get(5)).resolve("config.json"), "garbage{");
    Path s6 = run(out, plan.get(6)).resolve("summary.json");
    Files.writeString(s6, Files.readString(s6).replaceFirst("\"status\"\\s*:\\s*\"[a-z]+\"", "\"status\" : \"\""));
    Files.copy(run(out, plan.get(1)).resolve("config.json"), run(out, plan.get(7)).resolve("config.json"),
        StandardCopyOption.REPLACE_EXISTING);

    ByteArrayOutputStream log = new ByteArrayOutputStream();
    SweepRunner.Outcome o = SweepRunnerTest.runner(out, SweepRunner.Options.of(out)
        .withLog(new PrintStream(log, true, StandardCharsets.UTF_8))).run();
    String text = log.toString(StandardCharsets.UTF_8);
    assertThat(o.repaired()).isEqualTo(6);
    assertThat(o.trained()).isEqualTo(6);
    assertThat(o.skipped()).isEqualTo(2);
    assertThat(o.damaged()).isEmpty();
    assertThat(text)
        .contains(plan.get(0).runId() + " " + SweepRunner.label(plan.get(0)) + ": damaged (summary.json: empty file); "
            + "its files moved to runs/" + plan.get(0).runId() + "/damaged-")
        .contains(plan.get(2).runId() + " " + SweepRunner.label(plan.get(2)) + ": damaged (metrics.csv: the last line "
            + "has no newline (the file was cut short?))")
        .contains(plan.get(5).runId() + " " + SweepRunner.label(plan.get(5)) + ": damaged (config.json: not valid JSON "
            + "(Unrecognized token 'garbage'")
        .contains(plan.get(6).runId() + " " + SweepRunner.label(plan.get(6)) + ": damaged (summary.json: expected "
            + "status completed or diverged, got \"\")")
        .contains(plan.get(7).runId() + " " + SweepRunner.label(plan.get(7)) + ": damaged (config.json: expected "
            + "run_id " + plan.get(7).runId() + ", got \"" + plan.get(1).runId() + "\")");
    // the last 3 rows are now the final epoch's norms (split model), missing while earlier epochs have theirs
    assertThat(text).containsPattern(plan.get(4).runId() + " .*: damaged \\(metrics\\.csv: epoch 3 model "
        + "(max_unit_norm|spectral_norm_product|l2_norm) is missing \\(the earlier epochs have the model split's "
        + "norms; the file was cut short\\?\\)\\)");
    // nothing deleted: the damaged files are in damaged-*/, byte for byte
    assertThat(damagedFolder(out, plan.get(0)).resolve("summary.json")).isEmptyFile();
    assertThat(damagedFolder(out, plan.get(2)).resolve("metrics.csv")).hasBinaryContent(cut2);
    assertThat(damagedFolder(out, plan.get(5)).resolve("config.json")).hasContent("garbage{");
    assertThat(damagedFolder(out, plan.get(5)).resolve("summary.json")).exists();
    // and the combined files are the uninterrupted sweep's
    assertThat(out.resolve("metrics.csv")).hasBinaryContent(Files.readAllBytes(tiny.resolve("metrics.csv")));
    List<String> jsonl = Files.readAllLines(out.resolve("runs.jsonl"));
    assertThat(jsonl).hasSize(8).noneMatch(l -> l.contains("\"status\":\"\""));
    assertThat(statuses(jsonl)).isEqualTo(statuses(Files.readAllLines(tiny.resolve("runs.jsonl"))));

    SweepRunner.Outcome again = SweepRunnerTest.runner(out, SweepRunner.Options.of(out)).run();
    assertThat(again.trained()).isZero();
    assertThat(again.skipped()).isEqualTo(8);
  }

  @Test
  void anotherShardsDamagedRunIsNamedAndLeftAlone(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("out");
    copy(tiny, out);
    List<SweepRun> plan = SweepRunnerTest.runner(out, SweepRunner.Options.of(out)).plan();
    Path s1 = run(out, plan.get(1)).resolve("summary.json");
    Files.write(s1, new byte[0]);
    SweepRunner.Outcome o = SweepRunnerTest.runner(out, SweepRunner.Options.of(out).withShard(0, 2)).run();
    assertThat(o.trained()).isZero();
    assertThat(o.damaged()).containsExactly(plan.get(1).runId() + " (summary.json: empty file)");
    assertThat(s1).isEmptyFile();
    try (Stream<Path> s = Files.list(run(out, plan.get(1)))) {
      assertThat(s.map(p -> p.getFileName().toString()).sorted().toList())
          .containsExactly("config.json", "metrics.csv", "model.safetensors", "summary.json");
    }
    // the seven intact runs stay in the combined files; the damaged one's rows are gone
    List<String> jsonl = Files.readAllLines(out.resolve("runs.jsonl"));
    assertThat(jsonl).hasSize(7).noneMatch(l -> l.contains(plan.get(1).runId()));
    List<String> want = new ArrayList<>(Files.readAllLines(tiny.resolve("metrics.csv")));
    want.removeIf(l -> l.startsWith(plan.get(1).runId() + ","));
    assertThat(Files.readAllLines(out.resolve("metrics.csv"))).isEqualTo(want);

    // shard 1 trains it again, and the combined files are whole
    SweepRunner.Outcome o1 = SweepRunnerTest.runner(out, SweepRunner.Options.of(out).withShard(1, 2)).run();
    assertThat(o1.repaired()).isEqualTo(1);
    assertThat(o1.trained()).isEqualTo(1);
    assertThat(o1.damaged()).isEmpty();
    assertThat(out.resolve("metrics.csv")).hasBinaryContent(Files.readAllBytes(tiny.resolve("metrics.csv")));
  }

  @Test
  void aFifoOrASymlinkInPlaceOfARunFileIsDamageAndNothingOutsideIsTouched(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("out");
    copy(tiny, out);
    List<SweepRun> plan = SweepRunnerTest.runner(out, SweepRunner.Options.of(out)).plan();
    Path fifo = run(out, plan.get(0)).resolve("summary.json");
    Files.delete(fifo);
    Process p = new ProcessBuilder("mkfifo", fifo.toString()).start();
    org.junit.jupiter.api.Assumptions.assumeTrue(p.waitFor() == 0, "mkfifo is not available");
    Path outside = tmp.resolve("outside.csv");
    Path m2 = run(out, plan.get(2)).resolve("metrics.csv");
    Files.move(m2, outside);
    Files.createSymbolicLink(m2, outside);
    byte[] outsideBytes = Files.readAllBytes(outside);
    long outsideTime = Files.getLastModifiedTime(outside).toMillis();

    ByteArrayOutputStream log = new ByteArrayOutputStream();
    SweepRunner.Outcome o = SweepRunnerTest.runner(out, SweepRunner.Options.of(out)
        .withLog(new PrintStream(log, true, StandardCharsets.UTF_8))).run();
    assertThat(o.repaired()).isEqualTo(2);
    assertThat(log.toString(StandardCharsets.UTF_8))
        .contains(plan.get(0).runId() + " " + SweepRunner.label(plan.get(0)) + ": damaged (summary.json: not a "
            + "regular file); its files moved to")
        .contains(plan.get(2).runId() + " " + SweepRunner.label(plan.get(2)) + ": damaged (metrics.csv: not a "
            + "regular file (a symbolic link)); its files moved to");
    assertThat(Files.isRegularFile(damagedFolder(out, plan.get(0)).resolve("summary.json"))).isFalse();
    assertThat(Files.isSymbolicLink(damagedFolder(out, plan.get(2)).resolve("metrics.csv"))).isTrue();
    assertThat(outside).hasBinaryContent(outsideBytes);
    assertThat(Files.getLastModifiedTime(outside).toMillis()).isEqualTo(outsideTime);
    assertThat(out.resolve("metrics.csv")).hasBinaryContent(Files.readAllBytes(tiny.resolve("metrics.csv")));
  }

  /** The 12-run compare sweep: a damaged selection run must not cost the combined files the 4 retraining runs. */
  @Test
  void aDamagedSelectionRunNeverShrinksTheCombinedFiles(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("out");
    copy(compare, out);
    List<SweepRun> plan = compareRunner(SweepRunner.Options.of(out)).plan();
    assertThat(plan).hasSize(8);
    Files.write(run(out, plan.get(0)).resolve("summary.json"), new byte[0]);
    byte[] jsonl = Files.readAllBytes(out.resolve("runs.jsonl"));
    byte[] metrics = Files.readAllBytes(out.resolve("metrics.csv"));

    // interrupted before it trains anything: the combined files stay as they were (12 runs), not 7 of them
    SweepRunner.Outcome cut = compareRunner(SweepRunner.Options.of(out).withListeners(SweepHooks.interrupt(0, 0)))
        .run();
    assertThat(cut.interrupted()).isTrue();
    assertThat(cut.combinedKept()).isTrue();
    assertThat(out.resolve("runs.jsonl")).hasBinaryContent(jsonl);
    assertThat(out.resolve("metrics.csv")).hasBinaryContent(metrics);
    assertThat(Files.readAllLines(out.resolve("runs.jsonl"))).hasSize(12);

    SweepRunner.Outcome rest = compareRunner(SweepRunner.Options.of(out)).run();
    assertThat(rest.trained()).isEqualTo(1);
    assertThat(rest.skipped()).isEqualTo(11);
    assertThat(rest.combinedKept()).isFalse();
    assertThat(rest.selectionPending()).isFalse();
    assertThat(Files.readAllLines(out.resolve("runs.jsonl"))).hasSize(12);
    assertThat(out.resolve("metrics.csv")).hasBinaryContent(Files.readAllBytes(compare.resolve("metrics.csv")));
  }

  private static List<String> statuses(List<String> jsonl) {
    return jsonl.stream().map(l -> l.replaceAll(".*\"run_id\":\"([0-9a-f]+)\",\"status\":\"([a-z]*)\".*", "$1 $2"))
        .toList();
  }
}
