package io.github.pathsgd.experiments.sweep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import io.github.pathsgd.train.io.OutputTarget;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sweep's output checks: a run folder planted as a link out of the sweep folder is refused before anything is
 * written; a finished run whose model.safetensors is deleted or replaced is damaged and trained again; a run whose
 * config does not check against its data fails the sweep (named, with the reason) instead of being recorded as absent
 * data, while truly absent data still is.
 */
class SweepOutputChecksTest {
  @TempDir static Path shared;
  static Path tiny;

  @BeforeAll
  static void sweep() {
    tiny = shared.resolve("tiny");
    SweepRunnerTest.runner(tiny, SweepRunner.Options.of(tiny)).run();
  }

  static List<String> names(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void aRunFolderLinkedOutOfTheSweepFolderIsRefusedBeforeAnyRun(@TempDir Path tmp) throws Exception {
    Path out = Files.createDirectories(tmp.resolve("out").resolve("runs")).getParent();
    Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
    List<SweepRun> plan = SweepRunnerTest.runner(out, SweepRunner.Options.of(out)).plan();
    Path link = Files.createSymbolicLink(out.resolve("runs").resolve(plan.get(3).runId()), Path.of("../../elsewhere"));
    assertThatThrownBy(() -> SweepRunnerTest.runner(out, SweepRunner.Options.of(out)).run())
        .isInstanceOf(OutputTarget.Refused.class)
        .hasMessage("cannot write " + link + ": it is a symbolic link to " + elsewhere.toRealPath() + ", outside the "
            + "output folder " + out + "; pathsgd writes its own files only inside the output folder (remove the "
            + "link)");
    assertThat(names(elsewhere)).isEmpty();
    assertThat(names(out.resolve("runs"))).containsExactly(plan.get(3).runId()); // nothing trained before the check

    // install (experiments merge, pathsgd-spark) refuses it too, and writes nothing there
    Path done = tiny.resolve("runs").resolve(plan.get(3).runId());
    assertThatThrownBy(() -> SweepTasks.install(out, plan.get(3), SweepTasks.resultFiles(done)))
        .isInstanceOf(OutputTarget.Refused.class).hasMessageStartingWith("cannot write " + link + ": it is a symbolic link to ");
    assertThat(names(elsewhere)).isEmpty();
  }

  @Test
  void aFinishedRunWhoseModelIsDeletedOrReplacedIsTrainedAgain(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("out");
    SweepDamageTest.copy(tiny, out);
    List<SweepRun> plan = SweepRunnerTest.runner(out, SweepRunner.Options.of(out)).plan();
    Path run0 = out.resolve("runs").resolve(plan.get(0).runId());
    Path run1 = out.resolve("runs").resolve(plan.get(1).runId());
    Path run2 = out.resolve("runs").resolve(plan.get(2).runId());
    // summary.json records the model: its name, size and SHA-256
    byte[] model0 = Files.readAllBytes(run0.resolve("model.safetensors"));
    JsonNode m = Configs.json().readTree(run0.resolve("summary.json").toFile()).path("model");
    assertThat(m.path("file").asText()).isEqualTo("model.safetensors");
    assertThat(m.path("bytes").asLong()).isEqualTo(model0.length);
    assertThat(m.path("sha256").asText())
        .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(model0)));

    Files.delete(run0.resolve("model.safetensors"));
    byte[] garbage = new byte[Files.readAllBytes(run1.resolve("model.safetensors")).length];
    java.util.Arrays.fill(garbage, (byte) 'x');
    Files.write(run1.resolve("model.safetensors"), garbage); // same size, not a model
    Files.copy(run1.resolve("config.json"), run2.resolve("model.safetensors"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);

    ByteArrayOutputStream log = new ByteArrayOutputStream();
    SweepRunner.Outcome o = SweepRunnerTest.runner(out, SweepRunner.Options.of(out)
        .withLog(new PrintStream(log, true, StandardCharsets.UTF_8))).run();
    String text = log.toString(StandardCharsets.UTF_8);
    assertThat(o.repaired()).isEqualTo(3);
    assertThat(o.trained()).isEqualTo(3);
    assertThat(o.skipped()).isEqualTo(5);
    assertThat(text)
        .contains(plan.get(0).runId() + " " + SweepRunner.label(plan.get(0)) + ": damaged (model.safetensors: missing "
            + "(summary.json records a model of " + model0.length + " bytes)); its files moved to")
        .contains(plan.get(1).runId() + " " + SweepRunner.label(plan.get(1)) + ": damaged (model.safetensors: not a "
            + "safetensors file (header length 8680820740569200760 in a file of " + garbage.length + " bytes))")
        .contains(plan.get(2).runId() + " " + SweepRunner.label(plan.get(2)) + ": damaged (model.safetensors: ");
    // the replaced model is kept aside, and the retrained model is the original one, byte for byte
    assertThat(SweepDamageTest.damagedFolder(out, plan.get(1)).resolve("model.safetensors")).hasBinaryContent(garbage);
    assertThat(run0.resolve("model.safetensors")).hasBinaryContent(model0);
    assertThat(out.resolve("metrics.csv")).hasBinaryContent(Files.readAllBytes(tiny.resolve("metrics.csv")));
    assertThat(SweepRunnerTest.runner(out, SweepRunner.Options.of(out)).run().skipped()).isEqualTo(8);
  }

  static final String UNFIT = """
      name: unfit
      description: unfit
      figure: rescaling
      base: {dataset: mnist-sample, hidden: [8], per_class_train: 4, validation_size: 50, epochs: 1, threads: 1,
             batch_size: 10, seed: 3}
      grid:
        validation_size: [50, 1000000]
        optimizer: [sgd]
      scales:
        smoke: {description: s}
        quick: {description: q}
        paper: {description: p}
      """;

  @Test
  void runsWhoseConfigDoesNotCheckFailTheSweepAndAreNotRecordedAsMissingData(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("out");
    SweepSpec spec = SweepSpec.parse(UNFIT, "unfit");
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    SweepRunner.Outcome o = new SweepRunner(spec, "smoke", 1, SweepRunner.Options.of(out)
        .withLog(new PrintStream(log, true, StandardCharsets.UTF_8))).run();
    List<SweepRun> plan = o.runs();
    assertThat(plan).hasSize(2);
    assertThat(o.trained()).isEqualTo(1); // the run that fits trains
    assertThat(o.missingData()).isZero();
    assertThat(o.failed()).hasSize(1);
    assertThat(o.failed().get(0)).startsWith(plan.get(1).runId() + " (validation size 1000000 (validation_size) ");
    assertThat(log.toString(StandardCharsets.UTF_8)).contains(plan.get(1).runId() + " "
        + SweepRunner.label(plan.get(1)) + ": refused, its config does not check (validation size 1000000");
    assertThat(out.resolve("runs").resolve(plan.get(1).runId()).resolve("missing.json")).doesNotExist();
    assertThat(Files.readAllLines(out.resolve("runs.jsonl"))).hasSize(1);
    // for engines that train elsewhere (pathsgd-spark) the run fails, named, instead of a missing.json
    Path scratch = tmp.resolve("scratch");
    assertThatThrownBy(() -> SweepTasks.trainOne(plan.get(1), scratch, null))
        .isInstanceOf(io.github.pathsgd.data.DataException.class)
        .hasMessageStartingWith("run " + plan.get(1).runId() + ": refused, its config does not check (validation "
            + "size 1000000");
    assertThat(scratch.resolve("missing.json")).doesNotExist();
  }

  @Test
  void absentDataAreStillRecordedAsMissingData(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("out");
    Path empty = Files.createDirectories(tmp.resolve("no-data"));
    SweepSpec spec = SweepSpec.parse(UNFIT.replace("dataset: mnist-sample", "dataset: mnist"), "unfit");
    SweepRunner.Outcome o = new SweepRunner(spec, "smoke", 1, SweepRunner.Options.of(out).withDataDir(empty)).run();
    assertThat(o.missingData()).isEqualTo(2);
    assertThat(o.failed()).isEmpty();
    JsonNode m = Configs.json().readTree(out.resolve("runs").resolve(o.runs().get(0).runId()).resolve("missing.json")
        .toFile());
    assertThat(m.path("status").asText()).isEqualTo("missing-data");
    assertThat(m.path("reason").asText()).startsWith("data set 'mnist' not found. Searched: [" + empty);
  }
}
