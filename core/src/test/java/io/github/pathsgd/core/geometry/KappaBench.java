package io.github.pathsgd.core.geometry;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.optim.PathNormalize;
import io.github.pathsgd.core.optim.PathNormalizeState;
import io.github.pathsgd.core.optim.PathSgdOptions;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Timing of the Path-SGD normalization on 784-4000-4000-10 (tagged slow: excluded from the default build). */
@Tag("slow")
class KappaBench {
  @Test
  void timeKappa() {
    DenseChain lay = new DenseChain(784, 4000, 4000, 10);
    LayerNet net = Init.balanced(lay, new Rng(1));
    PathNormalize t = PathNormalize.of(PathSgdOptions.DEFAULT);
    PathNormalizeState st = t.init(io.github.pathsgd.core.nn.NetLayout.dense(lay));
    Tensor u = new Tensor(lay.size());
    int n = 30;
    for (int rep = 0; rep < 3; rep++) {
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        t.update(u, st, net.params());
      }
      System.out.printf("path normalize (γ sweeps + divide): %.2f ms/step%n", (System.nanoTime() - t0) / 1e6 / n);
    }
  }
}
