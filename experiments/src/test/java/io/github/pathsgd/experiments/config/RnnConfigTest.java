package io.github.pathsgd.experiments.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.Recurrent;
import io.github.pathsgd.core.optim.Chain;
import io.github.pathsgd.core.optim.ClipByNorm;
import io.github.pathsgd.core.optim.OptState;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.data.DataRequest;
import io.github.pathsgd.data.DataSplits;
import io.github.pathsgd.data.Datasets;
import io.github.pathsgd.data.Preprocessing;
import io.github.pathsgd.train.Trainer;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue 25's config keys: {@code kappa2} (one run id with {@code rnn(H,kappa2)}), {@code clip_norm} (hashed only when
 * set; clipping first in the chain, on the raw gradient), {@code init: irnn} (W_rec = I, b = 0, small W_in, the rest
 * as balanced), and the trainer's refusals on a regression set.
 */
class RnnConfigTest {
  static TrainConfig cfg(Map<String, Object> m) {
    return Configs.fromMap(m, TrainConfig.class).resolve();
  }

  static Map<String, Object> rnn(String layers) {
    Map<String, Object> m = new HashMap<>();
    m.put("dataset", "adding-100");
    m.put("layers", layers);
    m.put("optimizer", "path-sgd");
    return m;
  }

  @Test
  void kappa2IsWrittenIntoTheRnnItemAndIsOneRunIdWithIt() {
    Map<String, Object> flag = rnn("rnn(8),dense(4)");
    flag.put("kappa2", true);
    TrainConfig a = cfg(flag);
    TrainConfig b = cfg(rnn("rnn(8,kappa2),dense(4)"));
    assertThat(a.layers()).containsExactly("rnn(8,kappa2),dense(4)");
    assertThat(a.kappa2()).isNull();
    assertThat(a).isEqualTo(b);
    assertThat(ConfigHash.runId(a)).isEqualTo(ConfigHash.runId(b)).isNotEqualTo(ConfigHash.runId(cfg(rnn("rnn(8),"
        + "dense(4)"))));
    Map<String, Object> off = rnn("rnn(8)");
    off.put("kappa2", false);
    assertThat(ConfigHash.runId(cfg(off))).isEqualTo(ConfigHash.runId(cfg(rnn("rnn(8)"))));
    flag.put("kappa2", true);
    flag.put("optimizer", "sgd");
    assertThatThrownBy(() -> cfg(flag)).isInstanceOf(ConfigException.class).hasMessage("kappa2: Path-SGD's cross "
        + "term κ^(2); expected optimizer path-sgd, got sgd");
    Map<String, Object> dense = rnn("dense(8)");
    dense.put("kappa2", true);
    assertThatThrownBy(() -> cfg(dense)).hasMessageContaining("kappa2: κ^(2) is the cross term of an rnn layer")
        .hasMessageContaining("got dense(8)");
    Map<String, Object> p3 = rnn("rnn(8)");
    p3.put("kappa2", true);
    p3.put("p", 3.0);
    assertThatThrownBy(() -> cfg(p3)).hasMessage("kappa2: κ^(2) is implemented for p = 1 and 2; got p = 3.0");
  }

  @Test
  void clipNormIsHashedOnlyWhenSetAndClipsTheRawGradientFirst() {
    Map<String, Object> m = rnn("rnn(4)");
    m.put("optimizer", "sgd");
    m.put("lr", 0.5);
    String plain = ConfigHash.runId(cfg(m));
    m.put("clip_norm", null);
    assertThat(ConfigHash.runId(cfg(m))).isEqualTo(plain);
    m.put("clip_norm", 1.0);
    TrainConfig c = cfg(m);
    assertThat(ConfigHash.runId(c)).isNotEqualTo(plain);
    Optimizer o = Components.optimizer(c);
    assertThat(((Chain) o.transform()).parts().get(0)).isInstanceOf(ClipByNorm.class);
    // g = (3, 4): norm 5 → clipped to (0.6, 0.8); the step is −0.5 of it
    LayerNet net = Components.initialLayerNet(c, 1, 2, 1, 1);
    OptState st = o.init(net.layout());
    Tensor p = new Tensor(net.params().size());
    Tensor g = new Tensor(p.size());
    g.set(0, 3f);
    g.set(1, 4f);
    o.step(p, g, st);
    assertThat(p.get(0)).isCloseTo(-0.3f, org.assertj.core.data.Offset.offset(1e-6f));
    assertThat(p.get(1)).isCloseTo(-0.4f, org.assertj.core.data.Offset.offset(1e-6f));
    // below the threshold: unchanged
    Tensor q = new Tensor(p.size());
    Tensor h = new Tensor(p.size());
    h.set(2, 0.5f);
    o.step(q, h, st);
    assertThat(q.get(2)).isEqualTo(-0.25f);
    m.put("clip_norm", 0.0);
    assertThatThrownBy(() -> cfg(m)).hasMessage("clip_norm: expected a positive finite gradient norm (unset = no "
        + "clipping), got 0.0");
  }

  @Test
  void irnnInitIsIdentityRecurrenceZeroBiasSmallInputsAndTheBalancedRest() {
    Map<String, Object> m = rnn("rnn(6),dense(3)");
    m.put("init", "irnn");
    LayerNet irnn = Components.initialLayerNet(cfg(m), 1, 5, 2, 1);
    m.put("init", "balanced");
    LayerNet bal = Components.initialLayerNet(cfg(m), 1, 5, 2, 1);
    Recurrent r = (Recurrent) irnn.layers().get(0);
    var sl = r.paramSlices();
    int wIn = sl.get(0).offset();
    int wRec = sl.get(1).offset();
    int b = sl.get(2).offset();
    double sq = 0;
    for (int i = 0; i < 12; i++) {
      float v = irnn.params().get(wIn + i);
      assertThat(v).isNotEqualTo(0f);
      sq += v * v;
    }
    assertThat(Math.sqrt(sq / 12)).as("rms of W_in, σ = 0.001").isBetween(0.0003, 0.003);
    for (int a = 0; a < 6; a++) {
      for (int c = 0; c < 6; c++) {
        assertThat(irnn.params().get(wRec + a * 6 + c)).isEqualTo(a == c ? 1f : 0f);
      }
      assertThat(irnn.params().get(b + a)).isEqualTo(0f);
    }
    for (int i = r.paramSize(); i < irnn.params().size(); i++) {
      assertThat(irnn.params().get(i)).as("the dense layers as balanced").isEqualTo(bal.params().get(i));
    }
    Map<String, Object> noRnn = rnn("dense(6)");
    noRnn.put("init", "irnn");
    assertThatThrownBy(() -> cfg(noRnn)).isInstanceOf(ConfigException.class).hasMessageContaining(
        "init: irnn (W_rec = I, b = 0, W_in ~ N(0, 0.001²)) initializes an rnn layer").hasMessageContaining(
        "got dense(6)");
  }

  @Test
  void aRegressionSetNeedsANetworkOfLayersWithOneOutput() {
    DataSplits d = Datasets.load(new DataRequest("adding-10", null, 100, 1, Preprocessing.NONE));
    Map<String, Object> m = new HashMap<>();
    m.put("dataset", "adding-10");
    m.put("hidden", java.util.List.of(4));
    TrainConfig mlp = cfg(m);
    assertThatThrownBy(() -> Components.trainer(mlp, d)).hasMessageContaining("adding-10/train has real targets "
        + "(regression, mean squared error): expected a network of layers (--layers) with 1 output, got a fully "
        + "connected network (--hidden)");
    LayerNet ten = Components.initialLayerNet(cfg(rnn("rnn(4)")), 1, 10, 2, 10);
    assertThatThrownBy(() -> new Trainer(ten, Components.optimizer(cfg(rnn("rnn(4)"))), d.train(), null, null,
        new Trainer.Options(10, 1, io.github.pathsgd.core.nn.Dropout.NONE, 1, 0, false, true, 10), "x"))
        .hasMessageEndingWith("got 10 outputs");
  }
}
