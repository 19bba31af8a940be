package io.github.pathsgd.core.optim;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.nn.StepStats;
import io.github.pathsgd.core.step.TrainStep;
import io.github.pathsgd.core.util.Rng;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fused step (update folded into the weight-gradient GEMM) against the reference path: gradient into a buffer,
 * transform, then θ ← θ + u. Three steps, with dropout, from the same start.
 */
class FusedStepTest {
  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("sgd", (Supplier<Optimizer>) () -> Optimizers.sgd(0.1)),
        Arguments.of("path-sgd", (Supplier<Optimizer>) () -> Optimizers.pathSgd(0.05, 2)),
        Arguments.of("path-sgd p=3", (Supplier<Optimizer>) () -> Optimizers.pathSgd(0.05,
            PathSgdOptions.ofP(3), 0, false)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void fusedEqualsUnfused(String name, Supplier<Optimizer> make) {
    DenseChain lay = new DenseChain(7, 9, 8, 4);
    LayerNet a = Init.balanced(lay, new Rng(3));
    for (int l = 0; l < lay.layers(); l++) {
      for (int o = 0; o < lay.out(l); o++) {
        a.params().set(lay.biasOffset(l) + o, 0.05f * (o % 3 - 1));
      }
    }
    LayerNet b = a.copy();
    Optimizer fused = make.get();
    assertThat(fused.transform()).isInstanceOf(Foldable.class);
    Optimizer plain = make.get(); // same chain, never fused
    int B = 5;
    TrainStep ta = new TrainStep(a, fused, B);
    TrainStep tb = TrainStep.unfused(b, plain, B);
    assertThat(ta.folds()).isTrue();
    assertThat(tb.folds()).isFalse();
    OptState sa = ta.state();
    OptState sb = tb.state();
    Network.Workspace wa = (Network.Workspace) ta.workspace();
    Network.Workspace wb = (Network.Workspace) tb.workspace();
    Rng data = new Rng(9);
    int[] y = {0, 1, 2, 3, 1};
    Dropout drop = new Dropout(0.7f, 1f);
    for (int step = 0; step < 3; step++) {
      for (int i = 0; i < B * 7; i++) {
        float v = data.nextFloat();
        wa.input().set(i, v);
        wb.input().set(i, v);
      }
      StepStats s1 = new TrainStep(a, fused, wa, sa, true).run(B, y, 0, drop, new Rng(100 + step));
      StepStats s2 = new TrainStep(b, plain, wb, sb, true).run(B, y, 0, drop, new Rng(100 + step));
      assertThat(s1.loss()).isCloseTo(s2.loss(), org.assertj.core.api.Assertions.within(1e-5));
    }
    float[] pa = a.params().toArray();
    float[] pb = b.params().toArray();
    for (int i = 0; i < pa.length; i++) {
      assertThat(pa[i]).as("param %d", i).isCloseTo(pb[i], org.assertj.core.api.Assertions.within(1e-5f));
    }
    assertThat(sa.count()).isEqualTo(sb.count()).isEqualTo(3);
    assertThat(((Chain.State) sa).children().get(0).count()).isEqualTo(((Chain.State) sb).children().get(0).count());
    // the trajectories really moved
    assertThat(pa).isNotEqualTo(Init.balanced(lay, new Rng(3)).params().toArray());
  }
}
