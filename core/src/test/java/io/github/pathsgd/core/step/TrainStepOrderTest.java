package io.github.pathsgd.core.step;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.FoldedStep;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.nn.StepStats;
import io.github.pathsgd.core.optim.Foldable;
import io.github.pathsgd.core.optim.OptState;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link TrainStep} runs Path-SGD's κ pass after the forward pass (so the pass reads weights the forward GEMMs just
 * read); the step is bit for bit the one of the plain order, κ first and then the fused step (or, when the fold is
 * refused, the unfused gradient and the optimizer's step), written out here with the public pieces: parameters,
 * losses and optimizer state, with dropout, over several steps, for p = 1, 2, 3 (the folded optimizers; with momentum
 * the step is never folded).
 */
class TrainStepOrderTest {
  @Test
  void forwardThenKappaEqualsKappaThenStep() {
    compare(Optimizers.pathSgd(0.05, 2), false);
    compare(Optimizers.pathSgd(0.05, 1), false);
    compare(Optimizers.pathSgd(0.05, 3), false);
  }

  @Test
  void refusedFoldGivesTheSameUnfusedStep() {
    compare(Optimizers.pathSgd(0.05, 2), true);
  }

  private static void compare(Optimizer opt, boolean deadUnit) {
    DenseChain lay = new DenseChain(30, 24, 16, 5);
    LayerNet a = Init.balanced(lay, new Rng(11));
    if (deadUnit) { // hidden unit 3 of layer 1 feeds nothing: κ = 0 for its incoming weights, the fold is refused
      for (int o = 0; o < lay.out(1); o++) {
        a.params().set(lay.weightOffset(1) + o * lay.in(1) + 3, 0f);
      }
    }
    LayerNet b = a.copy();
    int batch = 12;
    TrainStep step = new TrainStep(a, opt, batch);
    assertThat(step.folds()).as(opt.toString()).isTrue();
    // the reference: κ first, then the fused step
    Network.Workspace ws = b.workspace(batch);
    OptState st = opt.init(io.github.pathsgd.core.nn.NetLayout.dense(lay));
    Foldable<?> fold = (Foldable<?>) opt.transform();
    FoldedStep fs = new FoldedStep(lay);
    Tensor grads = new Tensor(lay.size());
    Rng data = new Rng(5);
    int[] y = new int[batch];
    Dropout drop = new Dropout(0.75f, 0.9f);
    int refused = 0;
    for (int s = 0; s < 6; s++) {
      for (int i = 0; i < batch * lay.inputs(); i++) {
        float v = data.nextFloat();
        step.workspace().input().set(i, v);
        ws.input().set(i, v);
      }
      for (int i = 0; i < batch; i++) {
        y[i] = (s + 3 * i) % lay.outputs();
      }
      StepStats got = step.run(batch, y, drop, new Rng(100 + s));
      fs.reset();
      StepStats want;
      if (fold.prepareUnchecked(st, b.params(), fs)) {
        want = b.fusedStep(ws, batch, y, 0, drop, new Rng(100 + s), fs);
        fold.commitUnchecked(st);
      } else {
        refused++;
        want = b.lossAndGradient(ws, batch, y, 0, grads, drop, new Rng(100 + s));
        opt.step(b.params(), grads, st);
      }
      assertThat(got.loss()).as("loss of step %d", s).isEqualTo(want.loss());
      assertThat(got.errors()).isEqualTo(want.errors());
    }
    assertThat(refused > 0).as("fold refused").isEqualTo(deadUnit);
    for (int i = 0; i < lay.size(); i++) {
      assertThat(Float.floatToRawIntBits(a.params().get(i))).as("parameter %d", i)
          .isEqualTo(Float.floatToRawIntBits(b.params().get(i)));
    }
    Map<String, Object> ex = step.state().export();
    Map<String, Object> ey = st.export();
    assertThat(ex.keySet()).isEqualTo(ey.keySet());
    for (String k : ex.keySet()) {
      if (ex.get(k) instanceof float[] fx) {
        assertThat(fx).as(k).isEqualTo((float[]) ey.get(k));
      } else {
        assertThat((double[]) ex.get(k)).as(k).isEqualTo((double[]) ey.get(k));
      }
    }
  }
}
