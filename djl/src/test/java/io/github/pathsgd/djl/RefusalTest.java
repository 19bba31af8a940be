package io.github.pathsgd.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.pooling.Pool;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A block pathsgd cannot describe is refused, naming its class and its path in the model (and, for a lambda, its
 * name); a supported model built from the same parts is accepted, so each refusal is caused by the one part changed.
 */
class RefusalTest {
  static String refusal(Block b, Shape in) {
    try (NDManager m = NDManager.newBaseManager()) {
      long[] dims = new long[in.dimension() + 1];
      dims[0] = 2;
      System.arraycopy(in.getShape(), 0, dims, 1, in.dimension());
      b.initialize(m, DataType.FLOAT32, new Shape(dims));
      Throwable e = org.assertj.core.api.Assertions.catchThrowable(() -> DjlNetwork.of(b, in));
      assertThat(e).isInstanceOf(IllegalArgumentException.class);
      assertThat(e.getMessage()).doesNotContain("\n");
      return e.getMessage();
    }
  }

  static SequentialBlock mlpWith(Block middle) {
    return new SequentialBlock().add(Linear.builder().setUnits(5).build()).add(Activation.reluBlock()).add(middle)
        .add(Linear.builder().setUnits(3).build());
  }

  @Test
  void theSameModelWithSupportedPartsIsAccepted() {
    try (NDManager m = NDManager.newBaseManager()) {
      Block b = new SequentialBlock().add(Linear.builder().setUnits(5).build()).add(Activation.reluBlock())
          .add(Linear.builder().setUnits(3).build());
      b.initialize(m, DataType.FLOAT32, new Shape(2, 4));
      assertThat(DjlNetwork.of(b, new Shape(4)).layers()).isEqualTo("dense(5)");
      Block c = Fixtures.convNet();
      c.initialize(m, DataType.FLOAT32, new Shape(2, 1, 8, 8));
      assertThat(DjlNetwork.of(c, Fixtures.CONV_IN).layers())
          .isEqualTo("conv(4,3,pad=1),maxpool(2),conv(5,3),avgpool(2,stride=1),dense(6)");
      Block r = Fixtures.resNet();
      r.initialize(m, DataType.FLOAT32, new Shape(2, 1, 6, 6));
      assertThat(DjlNetwork.of(r, Fixtures.RES_IN).layers())
          .isEqualTo("conv(3,3,pad=1),res(conv(3,3,pad=1),conv(3,3,pad=1))");
    }
  }

  @Test
  void unsupportedBlocksAreRefusedByClassAndPath() {
    assertThat(refusal(mlpWith(Dropout.builder().optRate(0.5f).build()), new Shape(4)))
        .contains("model/03Dropout", "ai.djl.nn.norm.Dropout", "is not supported");
    assertThat(refusal(mlpWith(BatchNorm.builder().build()), new Shape(4)))
        .contains("model/03BatchNorm", "ai.djl.nn.norm.BatchNorm");
    assertThat(refusal(new SequentialBlock().add(Linear.builder().setUnits(5).build()).add(Activation.sigmoidBlock())
        .add(Linear.builder().setUnits(3).build()), new Shape(4)))
        .contains("model/01Linear", "must be followed by Activation.reluBlock()", "model/02LambdaBlock");
    assertThat(refusal(mlpWith(Activation.reluBlock()), new Shape(4)))
        .contains("model/03LambdaBlock (ReLU) must follow a Conv2d or a Linear");
  }

  @Test
  void djlsOwnPoolingLambdaIsRefusedByName() {
    Block b = new SequentialBlock().add(Fixtures.conv(2, 1)).add(Activation.reluBlock())
        .add(Pool.maxPool2dBlock(new Shape(2, 2))).add(Blocks.batchFlattenBlock())
        .add(Linear.builder().setUnits(3).build());
    assertThat(refusal(b, new Shape(1, 4, 4))).contains("model/03LambdaBlock", "ai.djl.nn.LambdaBlock 'maxPool2d'",
        "PathSgdBlocks pooling");
  }

  @Test
  void layersPathsgdDoesNotHaveAreRefusedNamingWhatDiffers() {
    assertThat(refusal(new SequentialBlock().add(Linear.builder().setUnits(5).optBias(false).build())
        .add(Activation.reluBlock()).add(Linear.builder().setUnits(3).build()), new Shape(4)))
        .contains("model/01Linear", "has no bias");
    Block dilated = new SequentialBlock().add(Conv2d.builder().setFilters(2).setKernelShape(new Shape(3, 3))
        .optDilation(new Shape(2, 2)).build()).add(Activation.reluBlock()).add(Blocks.batchFlattenBlock())
        .add(Linear.builder().setUnits(3).build());
    assertThat(refusal(dilated, new Shape(1, 8, 8))).contains("model/01Conv2d", "dilation (2, 2)");
    Block unflattened = new SequentialBlock().add(Fixtures.conv(2, 1)).add(Activation.reluBlock())
        .add(Linear.builder().setUnits(3).build());
    assertThat(refusal(unflattened, new Shape(1, 4, 4))).contains("model/03Linear", "batchFlattenBlock");
    Block noOutput = new SequentialBlock().add(Linear.builder().setUnits(5).build()).add(Activation.reluBlock());
    assertThat(refusal(noOutput, new Shape(4))).contains("last block must be a Linear without ReLU");
  }

  @Test
  void aParallelBlockThatDoesNotAddItsBranchesIsRefused() {
    SequentialBlock f = new SequentialBlock().add(Linear.builder().setUnits(5).build());
    Block concat = new ParallelBlock(list -> new NDList(NDArrays.concat(list)), List.of(f, Blocks.identityBlock()));
    assertThat(refusal(mlpWith(concat), new Shape(4))).contains("model/03ParallelBlock", "does not compute x + F(x)");
    Block twoF = new ParallelBlock(list -> new NDList(list.get(0).singletonOrThrow().add(list.get(1)
        .singletonOrThrow())), List.of(Linear.builder().setUnits(5).build(), Linear.builder().setUnits(5).build()));
    assertThat(refusal(mlpWith(twoF), new Shape(4))).contains("model/03ParallelBlock", "0 of them identity");
  }

  static final class NDArrays {
    static ai.djl.ndarray.NDArray concat(List<NDList> l) {
      return l.get(0).singletonOrThrow().concat(l.get(1).singletonOrThrow(), 1).get(":, :5");
    }
  }

  @Test
  void anUninitializedBlockIsRefused() {
    assertThatThrownBy(() -> DjlNetwork.of(Fixtures.mlp(), Fixtures.MLP_IN)).isInstanceOf(
        IllegalArgumentException.class).hasMessageContaining("model/01Linear is not initialized");
  }
}
