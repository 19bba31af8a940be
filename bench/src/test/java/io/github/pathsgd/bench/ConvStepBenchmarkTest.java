package io.github.pathsgd.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.core.nn.AvgPool2d;
import io.github.pathsgd.core.nn.Conv2d;
import io.github.pathsgd.core.nn.Dense;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.LayerSpec;
import io.github.pathsgd.core.nn.MaxPool2d;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConvStepBenchmarkTest {
  @Test
  void theIssuesCifarNetParsesToItsShapesAndParameterCount() {
    ConvNetSpec s = ConvNetSpec.parse(ConvNetSpec.CIFAR10, "3x32x32", 10);
    assertThat(s.layers()).hasSize(6);
    Conv2d c1 = (Conv2d) s.layers().get(0);
    assertThat(c1.out()).isEqualTo(32 * 32 * 32);
    assertThat(s.layers().get(1)).isInstanceOf(MaxPool2d.class);
    assertThat(s.layers().get(1).out()).isEqualTo(32 * 16 * 16);
    Conv2d c2 = (Conv2d) s.layers().get(2);
    assertThat(c2.paramOffset()).isEqualTo(32 * 27 + 32);
    assertThat(s.layers().get(3).out()).isEqualTo(64 * 8 * 8);
    Dense d = (Dense) s.layers().get(4);
    assertThat(d.in()).isEqualTo(4096);
    assertThat(d.out()).isEqualTo(256);
    assertThat(s.layers().get(5).out()).isEqualTo(10);
    // 896 + 18,496 + 4096·256 + 256 + 2,570 (as PyTorch counts the same net)
    assertThat(s.paramCount()).isEqualTo(896 + 18496 + 1048832 + 2570);
    // multiply-adds per image: 32·1024·27 + 64·256·288 + 4096·256 + 256·10; forward and weight gradient for all,
    // input gradient for all but the first
    double mac1 = 32 * 1024 * 27;
    double rest = 64 * 256 * 288 + 4096 * 256 + 2560;
    assertThat(s.stepFlops(100)).isEqualTo(2 * 100 * (2 * mac1 + 3 * rest));
  }

  /** The residual net counts its blocks' inner convs: 4 of 16 filters of 16×3×3 on 32×32, beside conv0 and the output. */
  @Test
  void theResidualNetCountsItsBlocksInnerLayers() {
    ConvNetSpec s = ConvNetSpec.parse(ConvNetSpec.CIFAR10_RESIDUAL, "3x32x32", 10);
    double mac0 = 16 * 1024 * 27;
    double rest = 4 * (16 * 1024 * 144) + 10 * 4096;
    assertThat(s.stepFlops(50)).isEqualTo(2 * 50 * (2 * mac0 + 3 * rest));
  }

  @Test
  void stridesPaddingAveragePoolingAndOwnShape() {
    ConvNetSpec s = ConvNetSpec.parse("conv(8,3,pad=1),avgpool(2),conv(4,5,stride=2),maxpool(3,stride=1)", "1x28x28",
        7);
    assertThat(s.layers().get(1)).isInstanceOf(AvgPool2d.class);
    Conv2d c2 = (Conv2d) s.layers().get(2);
    assertThat(c2.outHeight()).isEqualTo(5); // (14 − 5)/2 + 1
    assertThat(((MaxPool2d) s.layers().get(3)).outHeight()).isEqualTo(3); // (5 − 3)/1 + 1
    assertThat(s.layers().get(4).in()).isEqualTo(4 * 3 * 3);
    assertThat(s.layers().get(4).out()).isEqualTo(7);
    assertThat(s.shape()).isEqualTo("1x28x28");
    Tensor p = s.init(new Rng(1));
    assertThat(p.get(((Conv2d) s.layers().get(0)).biasOffset())).isZero();
    assertThat(p.get(0)).isNotZero();
  }

  @Test
  void badSpecsSayWhatIsWrong() {
    // the layer list is LayerSpec's (train --layers): its messages name the item or value
    assertThatThrownBy(() -> ConvNetSpec.parse("conv(8,3),pool(2)", "1x8x8", 2))
        .hasMessageContaining("'pool(2)'").hasMessageContaining("not 'pool'");
    assertThatThrownBy(() -> ConvNetSpec.parse("conv(8,x)", "1x8x8", 2)).hasMessageContaining("'conv(8,x)'")
        .hasMessageContaining("KERNEL 'x'");
    assertThatThrownBy(() -> ConvNetSpec.parse("dense(4),conv(2,3)", "1x8x8", 2))
        .hasMessageContaining("layer 2 'conv(2,3)'").hasMessageContaining("no conv or pooling after dense");
    assertThatThrownBy(() -> ConvNetSpec.parse("conv(8,3", "1x8x8", 2)).hasMessageContaining("unclosed '('")
        .hasMessageContaining("'conv(8,3'");
    assertThatThrownBy(() -> ConvNetSpec.parse("conv(8,9)", "1x8x8", 2)).hasMessageContaining("'conv(8,9)'")
        .hasMessageContaining("larger than its input 1x8x8");
    assertThatThrownBy(() -> ConvNetSpec.parse("maxpool(2,stride=0)", "1x8x8", 2))
        .hasMessageContaining("'maxpool(2,stride=0)'").hasMessageContaining("stride >= 1");
    // the shape and the classes are ConvNetSpec's own
    assertThatThrownBy(() -> ConvNetSpec.parse("conv(8,3)", "8x8", 2)).hasMessageContaining("CxHxW")
        .hasMessageContaining("'8x8'");
    assertThatThrownBy(() -> ConvNetSpec.parse("conv(8,3)", "1x0x8", 2)).hasMessageContaining("'1x0x8'")
        .hasMessageContaining("got '0'");
    assertThatThrownBy(() -> ConvNetSpec.parse("conv(8,3)", "1xax8", 2)).hasMessageContaining("'1xax8'")
        .hasMessageContaining("got 'a'");
    assertThatThrownBy(() -> ConvNetSpec.parse("conv(8,3)", "1x8x8", 0)).hasMessageContaining("classes")
        .hasMessageContaining("got 0");
  }

  @Test
  void theLayersAreLayerSpecsBuild() {
    // flatten and KHxKW kernels, as train --layers reads them; the same layers and parameter layout as LayerSpec.build
    String text = "conv(4,3x5,pad=1),maxpool(2),flatten,dense(6)";
    ConvNetSpec s = ConvNetSpec.parse(text, "2x9x9", 3);
    LayerNet net = LayerSpec.parse(text).build(2, 9, 9, 3);
    assertThat(s.layers()).hasSameSizeAs(net.layers()).hasSize(4);
    for (int k = 0; k < s.layers().size(); k++) {
      assertThat(s.layers().get(k).getClass()).isEqualTo(net.layers().get(k).getClass());
      assertThat(s.layers().get(k).in()).isEqualTo(net.layers().get(k).in());
      assertThat(s.layers().get(k).out()).isEqualTo(net.layers().get(k).out());
      assertThat(s.layers().get(k).paramOffset()).isEqualTo(net.layers().get(k).paramOffset());
    }
    assertThat(s.paramCount()).isEqualTo(net.params().size()).isEqualTo(4 * 2 * 15 + 4 + 6 * (4 * 4 * 3) + 6 + 21);
    // He-normal: fan-in C·KH·KW = 30 for the convolution; the same seed gives the same parameters
    assertThat(s.init(new Rng(5)).toArray()).containsExactly(s.init(new Rng(5)).toArray());
  }

  @Test
  void rowsOfATinyNetAndTheTable() {
    ConvNetSpec s = ConvNetSpec.parse("conv(2,3,pad=1),maxpool(2),dense(4)", "1x6x6", 3);
    Map<String, Object> row = ConvStepBenchmark.row(s, 4, 1, StepBenchmark.Plan.fixed(2, 5));
    assertThat(row.get("timed_steps")).isEqualTo(5);
    assertThat((Double) row.get("sgd_samples_per_s")).isPositive();
    assertThat((Double) row.get("ratio_q25")).isLessThanOrEqualTo((Double) row.get("ratio_median"));
    assertThat((Double) row.get("ratio_median")).isLessThanOrEqualTo((Double) row.get("ratio_q75"));
    assertThat((Double) row.get("cpu_ratio_q25")).isPositive()
        .isLessThanOrEqualTo((Double) row.get("cpu_ratio_q75"));
    row.put("pytorch_sgd_samples_per_s", 10.0);
    String t = ConvStepBenchmark.table(List.of(row), 4, StepBenchmark.Plan.fixed(2, 5));
    assertThat(t).contains("1x6x6").contains("conv(2,3,pad=1),maxpool(2),dense(4)").contains("PyTorch /s")
        .contains(" 10 ").contains("CPU-time ratio")
        .contains(String.format(java.util.Locale.ROOT, "%.3f (", (Double) row.get("cpu_ratio_median")));
  }

  @Test
  void pathSgdStepDividesTheGradientByKappa() {
    // one step of each from the same start: SGD moves θ by η·g, Path-SGD by η·g/κ, so their moves differ exactly by κ
    ConvNetSpec s = ConvNetSpec.parse("conv(2,3,pad=1),avgpool(2),dense(3)", "1x4x4", 2);
    ConvStepBenchmark.Net a = new ConvStepBenchmark.Net(s, 3);
    Tensor start = a.net.params().copy();
    a.gradient();
    Tensor g = a.grads.copy();
    double[] kappa = io.github.pathsgd.core.geometry.LayerKappa.of(s.layers(), start, 2);
    ConvStepBenchmark.Step path = ConvStepBenchmark.pathSgd(s, 3);
    path.run();
    ConvNetSpec s2 = ConvNetSpec.parse(s.text(), s.shape(), 2);
    ConvStepBenchmark.Net b = new ConvStepBenchmark.Net(s2, 3);
    assertThat(b.net.params().toArray()).containsExactly(start.toArray()); // same seeds
    int moved = 0;
    for (int i = 0; i < s.paramCount(); i++) {
      // the optimizer forms g/κ, then −η·(g/κ), then θ + u in float: the move agrees with the double one to rounding
      double move = -ConvStepBenchmark.LR * g.get(i) / kappa[i];
      double got = (double) path.params().get(i) - start.get(i);
      assertThat(got).as("parameter %d", i).isCloseTo(move, org.assertj.core.api.Assertions.within(
          1e-5 * Math.abs(move) + 2 * Math.ulp(start.get(i))));
      moved += move != 0 ? 1 : 0;
    }
    assertThat(moved).isPositive();
  }

}
