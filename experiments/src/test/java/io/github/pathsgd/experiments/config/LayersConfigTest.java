package io.github.pathsgd.experiments.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.core.geometry.ChannelRescaling;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.Network;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code layers} key: neutral for existing run ids, one canonical form, refusals naming the key and the item. */
class LayersConfigTest {
  /** The default {@code pathsgd train} config, as the command resolves it (README: run id fde03161fddb). */
  static TrainConfig trainCommandDefaults() {
    Map<String, Object> m = new HashMap<>(Configs.toMap(TrainConfig.empty()));
    Defaults.applyTrainCommand(m);
    return Configs.fromMap(m, TrainConfig.class).resolve();
  }

  @Test
  void theReadmeRunIdOfTheDefaultTrainCommandIsUnchanged() {
    assertThat(ConfigHash.runId(trainCommandDefaults())).isEqualTo("fde03161fddb");
    assertThat(Configs.toMap(trainCommandDefaults())).containsEntry("layers", null);
  }

  @Test
  void aStringAndAListOfItemsResolveToOneCanonicalSpecAndHash() {
    TrainConfig s = Configs.parse("layers: 'conv(8, 3, pad=1), avgpool(2,stride=2), dense(32)'\n", TrainConfig.class,
        "a.yaml").resolve();
    TrainConfig l = Configs.parse("layers:\n  - conv(8,3,pad=1)\n  - avgpool(2)\n  - dense(32)\n", TrainConfig.class,
        "b.yaml").resolve();
    assertThat(s.layers()).containsExactly("conv(8,3,pad=1),avgpool(2),dense(32)");
    assertThat(l).isEqualTo(s);
    assertThat(s.hidden()).isEmpty();
    assertThat(ConfigHash.configHash(s)).isEqualTo(ConfigHash.configHash(l))
        .isNotEqualTo(ConfigHash.configHash(TrainConfig.defaults()));
    // written as one string, read back the same
    String json = Configs.compact(Configs.toMap(s));
    assertThat(json).contains("\"layers\":\"conv(8,3,pad=1),avgpool(2),dense(32)\"");
    assertThat(Configs.parse(json, TrainConfig.class, "c.json").resolve()).isEqualTo(s);
  }

  @Test
  void refusals() {
    assertThatThrownBy(() -> Configs.parse("hidden: [10]\nlayers: dense(4)\n", TrainConfig.class, "x.yaml")
        .resolve()).isInstanceOf(ConfigException.class)
        .hasMessage("layers: set hidden (a fully connected network) or layers, not both");
    assertThatThrownBy(() -> Configs.parse("layers: conv(8)\n", TrainConfig.class, "x.yaml").resolve())
        .isInstanceOf(ConfigException.class)
        .hasMessage("layers: 'conv(8)': expected conv(FILTERS,KERNEL[,stride=S][,pad=P]), KERNEL as K or KHxKW");
    TrainConfig big = Configs.parse("layers: conv(4,9)\n", TrainConfig.class, "x.yaml").resolve();
    assertThatThrownBy(() -> Components.initialLayerNet(big, 1, 8, 8, 10)).isInstanceOf(ConfigException.class)
        .hasMessage("layers: layer 1 'conv(4,9)': kernel 9x9 is larger than its input 1x8x8 padded to 8x8 (input "
            + "1x8x8, 10 classes)");
  }

  @Test
  void unbalancedInitPicksChannelsAndKeepsTheFunction() {
    TrainConfig b = Configs.parse("layers: conv(8,3,pad=1),maxpool(2),dense(16)\nseed: 3\n", TrainConfig.class, "x")
        .resolve();
    TrainConfig u = Configs.parse("layers: conv(8,3,pad=1),maxpool(2),dense(16)\nseed: 3\ninit: unbalanced\n",
        TrainConfig.class, "x").resolve();
    LayerNet nb = Components.initialLayerNet(b, 1, 8, 8, 10);
    LayerNet nu = Components.initialLayerNet(u, 1, 8, 8, 10);
    assertThat(nu.params().toArray()).isNotEqualTo(nb.params().toArray());
    float[] x = io.github.pathsgd.core.geometry.Rescaling.randomInputs(64, 16, new io.github.pathsgd.core.util.Rng(1));
    float[] fb = ChannelRescaling.outputs(nb, x, 16);
    float[] fu = ChannelRescaling.outputs(nu, x, 16);
    for (int i = 0; i < fb.length; i++) {
      assertThat((double) fu[i]).isCloseTo(fb[i], org.assertj.core.api.Assertions.within(1e-4));
    }
    // the quarter of each hidden layer's channels: round(8/4) + round(16/4) = 2 + 4 picks, some channels by > 1
    int moved = 0;
    for (int f = 0; f < 8; f++) {
      moved += nu.params().get(f * 9) != nb.params().get(f * 9) ? 1 : 0;
    }
    assertThat(moved).isBetween(1, 2);
    Network n = Components.initialNetwork(b, new io.github.pathsgd.data.Dataset("d", new float[64], new int[] {0}, 1,
        1, 8, 8, 10));
    assertThat(n.params().toArray()).containsExactly(nb.params().toArray());
    assertThat(List.of(n.inputs(), n.outputs())).containsExactly(64, 10);
  }
}
