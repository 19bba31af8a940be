package io.github.pathsgd.experiments.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.core.geometry.Rescaling;
import io.github.pathsgd.core.geometry.Unbalance;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.experiments.sweep.SweepRunner;
import io.github.pathsgd.experiments.sweep.SweepSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code init: unbalanced} in runs and sweeps: the per-layer default, the absolute count, and the refusal. */
class UnbalancedInitTest {
  static TrainConfig cfg(String yaml) {
    return Configs.parse(yaml, TrainConfig.class, "test").resolve();
  }

  @Test
  void theDefaultIsAQuarterOfEachHiddenLayerFromTheUnbalanceStream() {
    TrainConfig c = cfg("init: unbalanced\nhidden: [32, 32]\nseed: 4\n");
    LayerNet net = Components.initialNetwork(c, 784, 10);
    LayerNet expected = Init.balanced(new DenseChain(784, 32, 32, 10), new Rng(4).split("init"));
    Rescaling.unbalance(expected, Unbalance.DEFAULT, new Rng(4).split("unbalance"));
    assertThat(net.params().toArray()).containsExactly(expected.params().toArray());
    // the absolute count is the former behaviour: the same draws from the same stream
    TrainConfig a = cfg("init: unbalanced\nhidden: [32, 32]\nseed: 4\nunbalance_count: 20\n");
    LayerNet abs = Init.balanced(new DenseChain(784, 32, 32, 10), new Rng(4).split("init"));
    Rescaling.unbalance(abs, Unbalance.total(20), new Rng(4).split("unbalance"));
    assertThat(Components.initialNetwork(a, 784, 10).params().toArray()).containsExactly(abs.params().toArray());
  }

  @Test
  void anOverflowingInitIsRefusedBeforeTraining() {
    TrainConfig c = cfg("init: unbalanced\nhidden: [32, 32]\nunbalance_count: 2000\n");
    assertThatThrownBy(() -> Components.initialNetwork(c, 784, 10)).isInstanceOf(Rescaling.Refused.class)
        .hasMessageStartingWith("unbalanced rescaling (count 2000 over all hidden layers, factor 10c, mu 0, sigma 1) "
            + "refused: ")
        .hasMessageContaining("overflow to infinity").hasMessageContaining("largest factor")
        .hasMessageContaining("(of 32)");
    TrainConfig big = cfg("init: unbalanced\nhidden: [32, 32]\nunbalance_factor: 10^c\nunbalance_mu: 4\n"
        + "unbalance_sigma: 0\n");
    assertThatThrownBy(() -> Components.initialNetwork(big, 784, 10)).isInstanceOf(Rescaling.Refused.class)
        .hasMessageContaining("factor 10^c, mu 4, sigma 0) refused: ");
    // a balanced run ignores the unbalancing options
    TrainConfig bal = cfg("hidden: [32, 32]\nunbalance_count: 2000\n");
    assertThat(Components.initialNetwork(bal, 784, 10).params().toArray()).containsExactly(
        Init.balanced(new DenseChain(784, 32, 32, 10), new Rng(1).split("init")).params().toArray());
  }

  @Test
  void aSweepStopsAtARefusedRunWithoutWritingIt(@TempDir Path tmp) throws Exception {
    String spec = """
        name: absurd
        description: absurd
        figure: rescaling
        base: {dataset: mnist-sample, hidden: [32, 32], per_class_train: 4, validation_size: 50, epochs: 1, threads: 1,
               unbalance_count: 2000, batch_size: 10, seed: 3}
        grid:
          init: [balanced, unbalanced]
        scales:
          smoke: {description: s}
          quick: {description: q}
          paper: {description: p}
        """;
    SweepRunner r = new SweepRunner(SweepSpec.parse(spec, "absurd"), "smoke", 1, SweepRunner.Options.of(tmp));
    String victim = r.plan().get(1).runId();
    assertThatThrownBy(r::run).isInstanceOf(Rescaling.Refused.class).hasMessageContaining("refused: ");
    assertThat(tmp.resolve("runs").resolve(r.plan().get(0).runId()).resolve("summary.json")).exists();
    assertThat(Files.exists(tmp.resolve("runs").resolve(victim))).isFalse();
  }
}
