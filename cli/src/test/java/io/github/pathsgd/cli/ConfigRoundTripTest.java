package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.cli.CliTest.Result;
import io.github.pathsgd.experiments.config.Configs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run's own config.json, fed back as {@code --config}, repeats the run: the same run id and the same metrics. */
class ConfigRoundTripTest {
  /** metrics.csv without its wall-clock rows ({@code train,seconds}). */
  static List<String> withoutTimes(Path metrics) throws Exception {
    return Files.readAllLines(metrics).stream().filter(l -> !l.contains(",train,seconds,")).toList();
  }

  @Test
  void aRunsConfigJsonRepeatsTheRun(@TempDir Path tmp) throws Exception {
    Path a = tmp.resolve("a");
    Result first = CliTest.run("train", "--hidden", "16", "--epochs", "2", "--per-class-train", "20",
        "--validation-size", "50", "--optimizer", "path-sgd", "--init", "unbalanced", "--quiet", "--out",
        a.toString());
    assertThat(first.code()).as(first.err()).isZero();
    JsonNode ca = Configs.json().readTree(Files.readAllBytes(a.resolve("config.json")));

    Path b = tmp.resolve("b");
    Result again = CliTest.run("train", "--config", a.resolve("config.json").toString(), "--quiet", "--out",
        b.toString());
    assertThat(again.code()).as(again.err()).isZero();
    JsonNode cb = Configs.json().readTree(Files.readAllBytes(b.resolve("config.json")));

    assertThat(cb.path("run_id").asText()).isEqualTo(ca.path("run_id").asText()).hasSize(12);
    assertThat(cb.path("config_hash").asText()).isEqualTo(ca.path("config_hash").asText());
    assertThat(cb.path("config")).isEqualTo(ca.path("config"));
    List<String> ma = withoutTimes(a.resolve("metrics.csv"));
    assertThat(ma).hasSizeGreaterThan(10);
    assertThat(withoutTimes(b.resolve("metrics.csv"))).isEqualTo(ma);
  }

  @Test
  void theHelpShowsTheDefaultsTheCommandUses() {
    String help = CliTest.run("train", "--help").out().replaceAll("\\s+", " ");
    assertThat(help).contains("momentum 0.9", "dropout 0.5", "30 epochs", "(default 100)");
  }
}
