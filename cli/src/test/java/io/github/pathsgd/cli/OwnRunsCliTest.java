package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.experiments.config.Configs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A researcher's own runs (issue 29, items 4 and 7): {@code train --out} never replaces another run without being asked
 * and treats a finished run of the same config as done; the messages a new user meets name what they need.
 */
class OwnRunsCliTest {
  static final String[] TINY = {"--hidden", "8", "--epochs", "1", "--per-class-train", "20", "--validation-size", "0",
      "--threads", "1", "--quiet"};

  static CliTest.Result train(Path out, String... more) {
    List<String> a = new ArrayList<>(List.of("train", "--out", out.toString()));
    a.addAll(List.of(TINY));
    a.addAll(List.of(more));
    return CliTest.run(a.toArray(String[]::new));
  }

  static String runId(Path dir) throws Exception {
    return Configs.json().readTree(dir.resolve("config.json").toFile()).path("run_id").asText();
  }

  @Test
  void trainOutHoldingAnotherRunIsRefusedNamingBothRunsAndReplaceKeepsTheOldFiles(@TempDir Path tmp)
      throws Exception {
    Path out = tmp.resolve("run");
    assertThat(train(out, "--lr", "0.05").code()).isZero();
    String first = runId(out);
    byte[] metrics = Files.readAllBytes(out.resolve("metrics.csv"));
    CliTest.Result r = train(out, "--lr", "0.01");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().lines().count()).isEqualTo(1);
    assertThat(r.err()).startsWith("pathsgd train: error: --out: " + out + " holds run " + first + ", not this run ")
        .contains("--replace");
    String second = r.err().replaceAll("(?s).*not this run ([0-9a-f]{12}).*", "$1");
    assertThat(second).hasSize(12).isNotEqualTo(first);
    assertThat(Files.readAllBytes(out.resolve("metrics.csv"))).isEqualTo(metrics); // nothing written
    assertThat(runId(out)).isEqualTo(first);

    CliTest.Result rep = train(out, "--lr", "0.01", "--replace");
    assertThat(rep.code()).as(rep.err()).isZero();
    assertThat(rep.out()).contains("--replace: moved the files of run " + first);
    assertThat(runId(out)).isEqualTo(second);
    assertThat(Files.readAllBytes(out.resolve("replaced-" + first).resolve("metrics.csv"))).isEqualTo(metrics);
  }

  @Test
  void rerunningAFinishedRunOfTheSameConfigTrainsNothing(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("run");
    assertThat(train(out).code()).isZero();
    String id = runId(out);
    byte[] metrics = Files.readAllBytes(out.resolve("metrics.csv"));
    byte[] summary = Files.readAllBytes(out.resolve("summary.json"));
    CliTest.Result again = train(out);
    assertThat(again.code()).isZero();
    assertThat(again.out()).isEqualTo("pathsgd train " + id + ": already finished in " + out + " (completed, 1 "
        + "epochs; " + out.resolve("summary.json") + "); nothing to train. To train it again: --replace, or another "
        + "--out" + System.lineSeparator());
    assertThat(Files.readAllBytes(out.resolve("metrics.csv"))).isEqualTo(metrics);
    assertThat(Files.readAllBytes(out.resolve("summary.json"))).isEqualTo(summary);
    // asking for a model it never wrote is an error, not a silent success
    CliTest.Result model = train(out, "--save-model", tmp.resolve("m.safetensors").toString());
    assertThat(model.code()).isEqualTo(1);
    assertThat(model.err()).contains("--save-model").contains(id).contains("--replace");
  }

  @Test
  void theWroteLineNamesTheModelAndTheBannerTheInitModel(@TempDir Path tmp) throws Exception {
    Path model = tmp.resolve("m.safetensors");
    List<String> a = new ArrayList<>(List.of("train", "--out", tmp.resolve("a").toString(), "--save-model",
        model.toString()));
    a.addAll(List.of(TINY).subList(0, TINY.length - 1)); // not quiet
    CliTest.Result r = CliTest.run(a.toArray(String[]::new));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("wrote " + tmp.resolve("a").resolve("metrics.csv")).contains(" and the model "
        + model).contains(", init balanced, ");
    List<String> b = new ArrayList<>(List.of("train", "--out", tmp.resolve("b").toString(), "--init-model",
        model.toString()));
    b.addAll(List.of(TINY).subList(2, TINY.length - 1)); // the model's widths
    CliTest.Result s = CliTest.run(b.toArray(String[]::new));
    assertThat(s.code()).as(s.err()).isZero();
    assertThat(s.out()).contains(", init model " + model + ", batch").doesNotContain("init balanced");
  }

  @Test
  void misspeltNamesGetTheNearestKnownOne(@TempDir Path tmp) throws Exception {
    CliTest.Result sub = CliTest.run("trian");
    assertThat(sub.err()).isEqualTo("pathsgd: error: Unmatched argument at index 0: 'trian' (did you mean 'train'?)"
        + System.lineSeparator() + "Try 'pathsgd --help'." + System.lineSeparator());
    CliTest.Result nested = CliTest.run("experiments", "runn");
    assertThat(nested.err()).contains("pathsgd experiments: error: ").contains("(did you mean 'run'?)")
        .contains("Try 'pathsgd experiments --help'.").doesNotContain("pathsgd pathsgd");
    CliTest.Result flag = CliTest.run("train", "--hiden", "8", "--out", tmp.resolve("o").toString());
    assertThat(flag.code()).isEqualTo(2);
    assertThat(flag.err()).contains("'--hiden'").contains("(did you mean '--hidden'?)")
        .contains("Try 'pathsgd train --help'.");
    CliTest.Result flag2 = CliTest.run("experiments", "run", "size", "--scale", "smoke", "--out", tmp.toString(),
        "--job", "2");
    assertThat(flag2.err()).contains("(did you mean '--jobs'?)").contains("Try 'pathsgd experiments run --help'.");
    CliTest.Result data = train(tmp.resolve("o"), "--dataset", "fashion-mnsit");
    assertThat(data.err()).contains("unknown data set 'fashion-mnsit' (did you mean 'fashion-mnist'?)");
    CliTest.Result far = train(tmp.resolve("o"), "--dataset", "imagenet");
    assertThat(far.err()).contains("unknown data set 'imagenet';").doesNotContain("did you mean");

    // unknown YAML keys: the nearest one, and the known keys in sorted order, the config's own keys only
    Path yaml = Files.writeString(tmp.resolve("c.yaml"), "epochz: 3\n");
    CliTest.Result key = CliTest.run("train", "--config", yaml.toString(), "--out", tmp.resolve("o").toString());
    assertThat(key.err()).startsWith("pathsgd train: error: epochz: unknown key in " + yaml
        + " (did you mean 'epochs'?) (known keys: [adagrad_eps, batch_size, clip_norm, data_dir, dataset, ");
    String known = key.err().replaceAll("(?s).*known keys: \\[(.*)\\]\\).*", "$1");
    List<String> keys = List.of(known.split(", "));
    assertThat(keys).isSorted().contains("epochs", "hidden", "layers", "init_model").hasSize(
        io.github.pathsgd.experiments.config.TrainConfig.class.getRecordComponents().length);
    Path sweep = Files.writeString(tmp.resolve("s.yaml"), "name: s\nbase: {epohcs: 1}\n");
    CliTest.Result sk = CliTest.run("experiments", "run", sweep.toString(), "--scale", "smoke", "--out",
        tmp.resolve("so").toString());
    assertThat(sk.err()).contains("epohcs: unknown config key in base of " + sweep + " (did you mean 'epochs'?)");
  }

  @Test
  void aVerdictThatCannotApplyExitsWithStatusOneAndSaysWhy(@TempDir Path tmp) throws Exception {
    Path yaml = Files.writeString(tmp.resolve("mine.yaml"), "name: mine\nfigure: rescaling\nbase: {dataset: "
        + "mnist-sample, hidden: [8], per_class_train: 4, validation_size: 50, epochs: 1, threads: 1, batch_size: 10}\n"
        + "grid: {optimizer: [adagrad]}\n");
    Path out = tmp.resolve("out");
    CliTest.Result run = CliTest.run("experiments", "run", yaml.toString(), "--scale", "smoke", "--out",
        out.toString(), "--quiet");
    assertThat(run.code()).as(run.err()).isZero();
    CliTest.Result rep = CliTest.run("report", "--in", out.toString());
    assertThat(rep.code()).isEqualTo(1);
    assertThat(rep.out()).contains("wrote " + out.resolve("report.md"));
    assertThat(rep.err()).isEqualTo("pathsgd report: no verdict: figure 'rescaling' compares sgd and path-sgd from "
        + "init balanced and unbalanced; the 1 main runs have optimizer [adagrad] and init [balanced]"
        + System.lineSeparator());
    CliTest.Result plot = CliTest.run("plot", "--in", out.toString());
    assertThat(plot.code()).isZero(); // the figure itself applies: one curve
    // a sweep folder whose runs have not finished: no figure, and plot says why with status 1 (it said "no finished
    // runs to plot" with status 0)
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    Files.writeString(empty.resolve("sweep.json"), "{\"experiment\":\"x\",\"figure\":\"compare\",\"scale\":"
        + "\"smoke\",\"seeds\":1}");
    Files.writeString(empty.resolve("runs.jsonl"), "");
    CliTest.Result none = CliTest.run("plot", "--in", empty.toString());
    assertThat(none.code()).isEqualTo(1);
    assertThat(none.err()).isEqualTo("pathsgd plot: no figure: no run finished in " + empty + " (0 recorded)"
        + System.lineSeparator());
    assertThat(CliTest.run("train", "--help").out()).contains("convolutional").contains("--layers")
        .contains("--init-model").contains("--replace");
  }

  @Test
  void aMissingDataSetIsOneShortLineNamingTheFoldersAndHowToGetIt(@TempDir Path tmp) {
    Path empty = tmp.resolve("empty");
    // mnist, not fashion-mnist: fashion-mnist is also looked for in /usr/share/datasets, where .ci/run installs it;
    // a tiny network and one epoch, so that data found by mistake fail the test fast instead of training for hours
    CliTest.Result r = CliTest.run("train", "--dataset", "mnist", "--data-dir", empty.toString(), "--hidden", "8",
        "--epochs", "1", "--out", tmp.resolve("o").toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().lines().count()).isEqualTo(1);
    String line = r.err().strip();
    assertThat(line).contains(empty.toString()).contains(empty.resolve("mnist").toString())
        .contains("train-images-idx3-ubyte.gz").contains("pathsgd data download mnist");
    // the line was 711 characters with a short path; the folders are what may make it long now
    assertThat(line.replace(empty.toString(), "").length()).isLessThan(400); // 361 now
  }
}
