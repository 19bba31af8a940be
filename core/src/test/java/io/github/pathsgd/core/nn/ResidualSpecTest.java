package io.github.pathsgd.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.core.geometry.ModelNorms;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.step.TrainStep;
import io.github.pathsgd.core.util.Rng;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@code res(...)} in the {@code --layers} grammar: parsed, printed back canonically, built with F's last layer linear
 * and the shape kept, initialized from its slices, trained by SGD and Path-SGD through {@link TrainStep}, measured by
 * {@link ModelNorms}; what it cannot be is refused with a one-line message naming the item.
 */
class ResidualSpecTest {
  static final String SPEC = "conv(3,3,pad=1),res(conv(3,3,pad=1),conv(3,3,pad=1)),maxpool(2),dense(6),"
      + "res(dense(5),dense(6))";

  @Test
  void parsesBuildsAndPrintsBack() {
    LayerSpec s = LayerSpec.parse(SPEC.replace(",", " , ").toUpperCase(java.util.Locale.ROOT).replace("RES", "res"));
    assertThat(s.toString()).isEqualTo(SPEC);
    assertThat(LayerSpec.parse(s.toString())).isEqualTo(s);
    LayerNet n = s.build(2, 6, 6, 4);
    assertThat(n.layers().stream().map(Layer::kind)).containsExactly("conv", "res", "maxpool", "dense", "res",
        "dense");
    Residual r = (Residual) n.layers().get(1);
    assertThat(r.inner().stream().map(Layer::relu)).containsExactly(true, false);
    assertThat(r.in()).isEqualTo(3 * 6 * 6);
    assertThat(n.layout().toString()).startsWith("conv[72->108@0+57],res[108->108@57+168],maxpool[108->27@225+0]");
  }

  @Test
  void trainsWithSgdAndPathSgdAndIsMeasured() {
    for (boolean pathSgd : new boolean[] {false, true}) {
      LayerNet n = LayerSpec.parse(SPEC).build(2, 6, 6, 4);
      Init.balanced(n, new Rng(3));
      assertThat(n.params().get(57)).as("F's first weight initialized").isNotZero();
      int B = 8;
      float[] x = new float[B * 72];
      Random r = new Random(1);
      for (int i = 0; i < x.length; i++) {
        x[i] = r.nextFloat();
      }
      int[] y = {0, 1, 2, 3, 0, 1, 2, 3};
      TrainStep step = new TrainStep(n, pathSgd ? Optimizers.pathSgd(0.5, 2) : Optimizers.sgd(0.05, 0.9, false), B);
      double first = 0;
      double last = 0;
      for (int s = 0; s < 30; s++) {
        step.workspace().input().copyFrom(x, 0, 0, x.length);
        last = step.run(B, y, Dropout.NONE, null).loss();
        first = s == 0 ? last : first;
      }
      assertThat(last).as(pathSgd ? "Path-SGD" : "SGD").isLessThan(0.9 * first);
      ModelNorms m = ModelNorms.of((Network) n);
      assertThat(java.util.Arrays.stream(m.values()).allMatch(v -> Double.isFinite(v) && v > 0)).as("%s", m).isTrue();
    }
  }

  @Test
  void refusesWhatAnIdentitySkipCannotBe() {
    assertThatThrownBy(() -> LayerSpec.parse("res(avgpool(2))")).hasMessage("layers: 'res(avgpool(2))': expected "
        + "res(ITEM,ITEM...[,proj]) with conv and dense items, the skip an identity (or a projection, proj, last) "
        + "('avgpool(2)' is not a conv or dense item)");
    assertThatThrownBy(() -> LayerSpec.parse("dense(4),res(proj,dense(4))")).hasMessageContaining(
        "('proj' must come last, after at least one item)");
    assertThatThrownBy(() -> LayerSpec.parse("dense(4),res(proj)")).hasMessageContaining(
        "('proj' must come last, after at least one item)");
    assertThatThrownBy(() -> LayerSpec.parse("res()")).hasMessageContaining("expected res(ITEM,ITEM...[,proj])");
    assertThatThrownBy(() -> LayerSpec.parse("conv(3,3),res(conv(3,3))").build(1, 8, 8, 2)).hasMessage(
        "layers: layer 2 'res(conv(3,3))': F maps 3x6x6 to 3x4x4; an identity skip needs the same shape (a shape "
            + "change needs a projection skip, res(...,proj))");
    assertThatThrownBy(() -> LayerSpec.parse("dense(4),res(dense(4),dense(5))").build(1, 3, 3, 2)).hasMessage(
        "layers: layer 2 'res(dense(4),dense(5))': F maps a vector of 4 to a vector of 5; an identity skip needs the "
            + "same shape (a shape change needs a projection skip, res(...,proj))");
    // a 1x1 convolution with one stride cannot map 7x7 to 2x3 (F's kernel 5x3, stride 2: 2x3 needs stride 4..6 down and 3 across)
    assertThatThrownBy(() -> LayerSpec.parse("conv(2,3,pad=1),res(conv(3,5x3,stride=2),proj)").build(1, 7, 7, 2))
        .hasMessageContaining("no 1x1 convolution with one stride maps 7x7 to 2x3");
    assertThatThrownBy(() -> LayerSpec.parse("conv(2,3(1))")).hasMessageStartingWith("layers: 'conv(2,3(1))'");
  }
}
