package io.github.pathsgd.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import java.nio.FloatBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What {@link PathSgdListener} relies on in DJL's PyTorch engine: a value written into the handle that {@code
 * getGradient()} returns is the gradient DJL's {@code Sgd} applies at {@code trainer.step()}, w ← w − η·g, to the
 * last bit, also after a garbage collection (DJL's own {@code set(Buffer)} fails that); and {@code DjlNetwork}'s
 * copies move weights both ways unchanged.
 */
class GradientHandleTest {
  @Test
  void aGradientWrittenThroughTheHandleIsTheOneSgdApplies() {
    float lr = 0.25f;
    try (Model model = Model.newInstance("g"); Trainer t = Fixtures.trainer(model, Fixtures.mlp(), Fixtures.MLP_IN,
        4, lr, 0f)) {
      DjlNetwork net = DjlNetwork.of(model.getBlock());
      float[] x = Fixtures.inputs(4, 12, 3);
      float[] y = {0, 1, 2, 1};
      NDArray xs = t.getManager().create(x, new ai.djl.ndarray.types.Shape(4, 12));
      NDArray ys = t.getManager().create(y);
      try (GradientCollector gc = t.newGradientCollector()) {
        NDList pred = t.forward(new NDList(xs));
        gc.backward(t.getLoss().evaluate(new NDList(ys), pred));
      }
      float[] before = net.weights();
      List<Parameter> ps = net.parameters();
      int[] off = net.offsets();
      float[] written = new float[net.size()];
      for (int i = 0; i < written.length; i++) {
        written[i] = (i % 7 - 3) * 0.125f + i * 1e-4f; // not the gradient, and different per coordinate
      }
      for (int i = 0; i < ps.size(); i++) {
        try (NDArray g = ps.get(i).getArray().getGradient()) {
          DjlNetwork.copyOut(FloatBuffer.wrap(written), off[i], g);
        }
      }
      for (int k = 0; k < 3; k++) { // a copy that the collector could free under the tensor would show now
        System.gc();
        byte[] churn = new byte[1 << 24];
        assertThat(churn).hasSize(1 << 24);
      }
      for (int i = 0; i < ps.size(); i++) { // read back through a fresh handle
        try (NDArray g = ps.get(i).getArray().getGradient()) {
          float[] back = g.toFloatArray();
          for (int j = 0; j < back.length; j++) {
            assertThat(back[j]).isEqualTo(written[off[i] + j]);
          }
        }
      }
      t.step();
      net.pullWeights();
      float[] after = net.weights();
      for (int i = 0; i < after.length; i++) {
        float want = before[i] - written[i] * lr; // Sgd without momentum: grad·η, then w − that, in float32
        assertThat(after[i]).as("parameter %d", i).isEqualTo(want);
      }
      // and pushWeights writes what pullWeights reads, bit for bit
      net.graph().params().put(0, written);
      net.pushWeights();
      net.graph().params().put(0, new float[net.size()]);
      System.gc();
      net.pullWeights();
      assertThat(net.weights()).containsExactly(written);
    }
  }

  @Test
  void copiesReachTensorsThatAreNotContiguousOrWhoseLastElementAlreadyHoldsTheValue() {
    try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
      // a transposed view is not contiguous: DJL's direct view of it is a copy, so the write must take the index copy
      NDArray base = m.create(new float[] {1, 2, 3, 4, 5, 6}, new ai.djl.ndarray.types.Shape(2, 3));
      NDArray t = base.transpose();
      float[] want = {10, 20, 30, 40, 50, 60};
      DjlNetwork.copyOut(FloatBuffer.wrap(want), 0, t);
      assertThat(t.toFloatArray()).containsExactly(want);
      assertThat(base.toFloatArray()).containsExactly(10, 30, 50, 20, 40, 60);
      // the last element already equal: the others must still be written
      NDArray c = m.create(new float[] {1, 2, 3, 4}, new ai.djl.ndarray.types.Shape(2, 2));
      DjlNetwork.copyOut(FloatBuffer.wrap(new float[] {0, 7, 8, 9, 4}), 1, c);
      assertThat(c.toFloatArray()).containsExactly(7, 8, 9, 4);
    }
  }
}
