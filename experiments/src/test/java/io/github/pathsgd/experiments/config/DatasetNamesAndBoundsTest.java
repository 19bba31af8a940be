package io.github.pathsgd.experiments.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 23, items 1, 6 and 9 at the config level: a data set path keeps its case (built-in names do not, and their run
 * ids stay as published), a hidden list is bounded and a null width named, an unknown YAML tag is refused. Every config
 * is a file the test writes, read by the loader {@code pathsgd train --config} uses.
 */
class DatasetNamesAndBoundsTest {
  @TempDir Path tmp;

  private TrainConfig read(String name, String text) throws IOException {
    return Configs.readTrainConfig(Files.writeString(tmp.resolve(name), text)).resolve();
  }

  @Test
  void aDatasetPathKeepsItsCaseAndItsOwnRunId() throws IOException {
    Path upper = tmp.resolve("x/Data.npz");
    TrainConfig a = read("a.yaml", "dataset: " + upper + "\nhidden: [8]\n");
    TrainConfig b = read("b.yaml", "dataset: " + tmp.resolve("x/data.npz") + "\nhidden: [8]\n");
    assertThat(a.dataset()).isEqualTo(upper.toString());
    assertThat(b.dataset()).isEqualTo(tmp.resolve("x/data.npz").toString());
    assertThat(ConfigHash.runId(a)).isNotEqualTo(ConfigHash.runId(b));
    // a folder name or a bare file name with capitals too: only the built-in names are case-insensitive
    assertThat(TrainConfig.datasetName("MyImages")).isEqualTo("MyImages");
    assertThat(TrainConfig.datasetName("own/Train")).isEqualTo("own/Train");
    assertThat(TrainConfig.datasetName("DATA.NPZ")).isEqualTo("DATA.NPZ");
  }

  @Test
  void builtInNamesAreMatchedInAnyCaseWithTheSameRunId() throws IOException {
    for (String[] c : new String[][] {{"MNIST", "mnist"}, {"Fashion-MNIST", "fashion-mnist"},
        {" Cifar10 ", "cifar10"}, {"MNIST-Sample", "mnist-sample"}, {"SVHN-Extra", "svhn-extra"},
        {"CIFAR100-coarse", "cifar100-coarse"}}) {
      TrainConfig up = read("u.yaml", "dataset: '" + c[0] + "'\nhidden: [8]\n");
      TrainConfig low = read("l.yaml", "dataset: " + c[1] + "\nhidden: [8]\n");
      assertThat(up.dataset()).as(c[0]).isEqualTo(c[1]);
      assertThat(ConfigHash.runId(up)).as(c[0]).isEqualTo(ConfigHash.runId(low));
    }
  }

  /**
   * The committed medium-scale runs keep their run ids: each run's config.json, read back, hashes to its folder's
   * run id, also with the data set's name in capitals.
   */
  @Test
  void theCommittedMediumRunsKeepTheirRunIds() throws IOException {
    Path medium = Path.of("..", "results", "medium").toAbsolutePath().normalize();
    Assumptions.assumeTrue(Files.isDirectory(medium), "results/medium not found from " + Path.of("").toAbsolutePath());
    List<Path> configs = new ArrayList<>();
    try (Stream<Path> s = Files.find(medium, 4, (p, a) -> p.getFileName().toString().equals("config.json")
        && p.getParent().getParent().getFileName().toString().equals("runs"))) {
      s.forEach(configs::add);
    }
    assertThat(configs).hasSizeGreaterThan(100);
    for (Path f : configs) {
      String id = f.getParent().getFileName().toString();
      TrainConfig c = Configs.readTrainConfig(f);
      assertThat(ConfigHash.runId(c)).as(f.toString()).isEqualTo(id);
      java.util.Map<String, Object> m = Configs.toMap(c);
      m.put("dataset", c.dataset().toUpperCase(java.util.Locale.ROOT));
      assertThat(ConfigHash.runId(Configs.fromMap(m, TrainConfig.class))).as(f + " in capitals").isEqualTo(id);
    }
  }

  @Test
  void aNullWidthIsNamedByItsPosition() {
    assertThatThrownBy(() -> read("n.yaml", "hidden: [8, null]\n")).isInstanceOf(ConfigException.class)
        .hasMessage("hidden[1]: expected a positive integer width, got null");
    assertThatThrownBy(() -> read("n2.yaml", "hidden: [~]\n")).isInstanceOf(ConfigException.class)
        .hasMessage("hidden[0]: expected a positive integer width, got null");
  }

  @Test
  void aHiddenListLongerThanTheBoundIsRefusedByCount() throws IOException {
    String widths = String.join(",", Collections.nCopies(200_000, "8"));
    Path f = Files.writeString(tmp.resolve("deep.yaml"), "hidden: [" + widths + "]\n");
    assertThat(Files.size(f)).isGreaterThan(390_000);
    assertThatThrownBy(() -> Configs.readTrainConfig(f).resolve()).isInstanceOf(ConfigException.class)
        .hasMessage("hidden: expected at most 1000 hidden layers, got a list of 200000 widths");
    // the bound itself is a network that resolves
    String ok = String.join(",", Collections.nCopies(TrainConfig.MAX_LAYERS, "2"));
    assertThat(read("ok.yaml", "hidden: [" + ok + "]\n").hidden()).hasSize(1000);
    assertThatThrownBy(() -> read("l.yaml", "layers: \"" + String.join(",", Collections.nCopies(1001, "dense(2)"))
        + "\"\n")).isInstanceOf(ConfigException.class)
        .hasMessage("layers: expected at most 1000 items, got 1001");
  }

  @Test
  void anUnknownYamlTagIsRefusedNotDropped() throws IOException {
    assertThatThrownBy(() -> read("t.yaml", "epochs: 2\nlr: !foo 0.1\n")).isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(tmp.resolve("t.yaml") + ": unknown YAML tag '!foo' (line 2, column 5); expected "
            + "plain values");
    assertThatThrownBy(() -> read("t2.yaml", "hidden: !!python/tuple [8, 8]\n")).isInstanceOf(ConfigException.class)
        .hasMessageContaining("unknown YAML tag '!!python/tuple' (line 1");
    assertThatThrownBy(() -> read("t3.yaml", "!bar epochs: 3\n")).isInstanceOf(ConfigException.class)
        .hasMessageContaining("unknown YAML tag '!bar'");
    assertThatThrownBy(() -> Configs.parse("lr: !foo 0.1\n", TrainConfig.class, "text"))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("text: unknown YAML tag '!foo'");
    // the core schema's tags mean what they say
    assertThat(read("t4.yaml", "lr: !!float 0.25\nhidden: !!seq [8]\n").lr()).isEqualTo(0.25);
    // a JSON config has no tags; the text '!foo' inside a string is a string
    assertThat(read("t5.yaml", "unbalance_factor: '10c'\ninit_model: null\n").unbalanceFactor()).isEqualTo("10c");
    JsonNode n = Configs.yamlTree("a: '!foo'\n", "s");
    assertThat(n.get("a").asText()).isEqualTo("!foo");
  }
}
