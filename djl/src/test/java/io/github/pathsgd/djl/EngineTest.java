package io.github.pathsgd.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

/** DJL's PyTorch engine loads offline from the Maven natives and computes: a 2×2 matrix product worked by hand. */
class EngineTest {
  @Test
  void thePyTorchEngineRunsAMatrixProductOffline() {
    assertThat(System.getProperty("ai.djl.offline")).isEqualTo("true");
    assertThat(Engine.getInstance().getEngineName()).isEqualTo("PyTorch");
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray a = m.create(new float[] {1, 2, 3, 4}, new ai.djl.ndarray.types.Shape(2, 2));
      NDArray b = m.create(new float[] {5, 6, 7, 8}, new ai.djl.ndarray.types.Shape(2, 2));
      // [1 2; 3 4]·[5 6; 7 8] = [19 22; 43 50]
      assertThat(a.matMul(b).toFloatArray()).containsExactly(19f, 22f, 43f, 50f);
    }
  }
}
