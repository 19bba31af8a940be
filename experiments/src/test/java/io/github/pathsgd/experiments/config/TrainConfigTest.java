package io.github.pathsgd.experiments.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainConfigTest {
  @Test
  void defaultsResolve() {
    TrainConfig c = TrainConfig.defaults();
    assertThat(c.dataset()).isEqualTo("mnist-sample");
    assertThat(c.hidden()).containsExactly(1000, 1000);
    assertThat(c.batchSize()).isEqualTo(100);
    assertThat(c.widths(784, 10)).containsExactly(784, 1000, 1000, 10);
  }

  @Test
  void yamlWithSnakeCaseKeys() {
    TrainConfig c = Configs.parse("dataset: cifar10\nhidden: [4000, 4000]\noptimizer: path-sgd\nbatch_size: 64\n",
        TrainConfig.class, "test").resolve();
    assertThat(c.dataset()).isEqualTo("cifar10");
    assertThat(c.hidden()).containsExactly(4000, 4000);
    assertThat(c.optimizer()).isEqualTo("path-sgd");
    assertThat(c.batchSize()).isEqualTo(64);
  }

  @Test
  void unknownKeysAreRejectedByName() {
    assertThatThrownBy(() -> Configs.parse("lr: 0.1\nlearning_rate: 0.1\n", TrainConfig.class, "x.yaml"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("learning_rate").hasMessageContaining("x.yaml");
  }

  @Test
  void badValuesNameTheField() {
    assertThatThrownBy(() -> Configs.fromMap(Map.of("hidden", List.of(10, -3)), TrainConfig.class).resolve())
        .hasMessageStartingWith("hidden:");
    assertThatThrownBy(() -> Configs.fromMap(Map.of("optimizer", "adam"), TrainConfig.class).resolve())
        .hasMessageStartingWith("optimizer:").hasMessageContaining("adam");
    assertThatThrownBy(() -> Configs.fromMap(Map.of("dropout", 1.0), TrainConfig.class).resolve())
        .hasMessageStartingWith("dropout:");
    assertThatThrownBy(() -> Configs.fromMap(Map.of("lr", -1.0), TrainConfig.class).resolve())
        .hasMessageStartingWith("lr:");
  }

  @Test
  void unbalanceDensityIsAFractionPerLayerByDefaultOrAnAbsoluteCount() {
    TrainConfig d = TrainConfig.defaults();
    assertThat(d.unbalanceFraction()).isEqualTo(0.25);
    assertThat(d.unbalanceCount()).isNull();
    TrainConfig c = Configs.parse("init: unbalanced\nunbalance_count: 2000\n", TrainConfig.class, "t").resolve();
    assertThat(c.unbalanceCount()).isEqualTo(2000);
    assertThat(c.unbalanceFraction()).isNull();
    assertThat(c.resolve()).isEqualTo(c);
    assertThat(Configs.toMap(c)).containsEntry("unbalance_fraction", null).containsEntry("unbalance_count", 2000);
    TrainConfig f = Configs.parse("unbalance_fraction: 1.0\n", TrainConfig.class, "t").resolve();
    assertThat(f.unbalanceFraction()).isEqualTo(1.0);
    assertThat(ConfigHash.configHash(f)).isNotEqualTo(ConfigHash.configHash(d)).isNotEqualTo(ConfigHash.configHash(
        Configs.fromMap(Map.of("unbalance_count", 2000), TrainConfig.class).resolve()));
    assertThatThrownBy(() -> Configs.parse("unbalance_fraction: 0.25\nunbalance_count: 8\n", TrainConfig.class, "t")
        .resolve()).isInstanceOf(ConfigException.class).hasMessageStartingWith("unbalance_count:")
        .hasMessageContaining("not both");
    assertThatThrownBy(() -> Configs.fromMap(Map.of("unbalance_fraction", -0.5), TrainConfig.class).resolve())
        .hasMessageStartingWith("unbalance_fraction:");
    assertThatThrownBy(() -> Configs.fromMap(Map.of("unbalance_count", -1), TrainConfig.class).resolve())
        .hasMessageStartingWith("unbalance_count:");
    assertThatThrownBy(() -> Configs.parse("unbalance_density: 0.25\n", TrainConfig.class, "x.yaml"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("unbalance_density");
  }

  @Test
  void hashIgnoresThreadsAndDataDirButNotSeed() {
    TrainConfig a = TrainConfig.defaults();
    TrainConfig b = Configs.fromMap(Map.of("threads", 1, "data_dir", "/x"), TrainConfig.class).resolve();
    TrainConfig c = Configs.fromMap(Map.of("seed", 2), TrainConfig.class).resolve();
    assertThat(ConfigHash.configHash(a)).isEqualTo(ConfigHash.configHash(b)).hasSize(64);
    assertThat(ConfigHash.configHash(a)).isNotEqualTo(ConfigHash.configHash(c));
    assertThat(ConfigHash.runId(a)).hasSize(12);
  }

  /** The README's run id of the default {@code pathsgd train} config stays; the keys added later are neutral unset. */
  @Test
  void defaultTrainCommandRunIdIsUnchangedByTheNewKeys() {
    Map<String, Object> m = new java.util.LinkedHashMap<>(Configs.toMap(TrainConfig.empty()));
    Defaults.applyTrainCommand(m);
    assertThat(ConfigHash.runId(Configs.fromMap(m, TrainConfig.class))).isEqualTo("fde03161fddb");
    m.put("record_norms", true);
    assertThat(ConfigHash.runId(Configs.fromMap(m, TrainConfig.class))).isEqualTo("fde03161fddb");
    m.put("record_norms", false);
    String noNorms = ConfigHash.runId(Configs.fromMap(m, TrainConfig.class));
    assertThat(noNorms).isNotEqualTo("fde03161fddb");
    m.put("record_norms", null);
    m.put("max_steps", 100);
    String steps = ConfigHash.runId(Configs.fromMap(m, TrainConfig.class));
    assertThat(steps).isNotIn("fde03161fddb", noNorms);
    m.put("max_steps", 0);
    assertThatThrownBy(() -> Configs.fromMap(m, TrainConfig.class).resolve()).hasMessage("max_steps: expected a "
        + "positive number of optimizer steps, got 0");
  }

  /** A config naming an init model hashes the file's content, never the path alone; an unbound one is refused. */
  @Test
  void initModelIsHashedByContent(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
    io.github.pathsgd.core.nn.LayerNet net = io.github.pathsgd.core.nn.Init.balanced(
        new io.github.pathsgd.core.nn.DenseChain(4, 3, 2), new io.github.pathsgd.core.util.Rng(1));
    java.nio.file.Path a = tmp.resolve("a.safetensors");
    java.nio.file.Path b = tmp.resolve("b.safetensors");
    io.github.pathsgd.model.SafeTensors.write(net, a, Map.of());
    java.nio.file.Files.copy(a, b);
    Map<String, Object> m = new java.util.LinkedHashMap<>(Configs.toMap(TrainConfig.empty()));
    m.put("init_model", a.toString());
    TrainConfig unbound = Configs.fromMap(m, TrainConfig.class);
    assertThatThrownBy(() -> ConfigHash.runId(unbound)).hasMessageContaining("not bound to its content");
    TrainConfig ba = Components.bindInitModel(unbound);
    assertThat(ba.hidden()).containsExactly(3);
    m.put("init_model", b.toString());
    TrainConfig bb = Components.bindInitModel(Configs.fromMap(m, TrainConfig.class));
    assertThat(ConfigHash.runId(bb)).isEqualTo(ConfigHash.runId(ba)); // same content, another path
    net.params().set(0, net.params().get(0) + 1);
    io.github.pathsgd.model.SafeTensors.write(net, b, Map.of());
    TrainConfig changed = Components.bindInitModel(Configs.fromMap(m, TrainConfig.class));
    assertThat(ConfigHash.runId(changed)).isNotEqualTo(ConfigHash.runId(ba));
    // a bound config whose file changed since is refused, naming both digests
    assertThatThrownBy(() -> Components.bindInitModel(bb)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("init_model_sha256: init_model " + b + " has SHA-256 " + changed.initModelSha256()
            + ", not " + bb.initModelSha256());
    // widths given must agree
    m.put("hidden", List.of(5));
    assertThatThrownBy(() -> Components.bindInitModel(Configs.fromMap(m, TrainConfig.class)))
        .hasMessage("hidden: widths [5] disagree with init_model " + b + ", whose hidden widths are [3] (4-3-2); "
            + "leave hidden unset to take the model's");
  }
}
