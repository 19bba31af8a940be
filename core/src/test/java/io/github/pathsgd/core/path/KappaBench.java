package io.github.pathsgd.core.path;

import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.Mlp;
import io.github.pathsgd.core.nn.ParamLayout;
import io.github.pathsgd.core.optim.OptState;
import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Timing of the Path-SGD normalization on 784-4000-4000-10 (tagged slow: excluded from the default build). */
@Tag("slow")
class KappaBench {
  @Test
  void timeKappa() {
    ParamLayout lay = new ParamLayout(784, 4000, 4000, 10);
    Mlp net = Init.balanced(lay, new Rng(1));
    PathSgd t = PathSgd.normalize(PathSgdOptions.DEFAULT);
    OptState st = t.init(lay);
    Tensor u = new Tensor(lay.size());
    int n = 30;
    for (int rep = 0; rep < 3; rep++) {
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        t.update(u, st, net.params());
      }
      System.out.printf("path normalize (γ sweeps + divide): %.2f ms/step%n", (System.nanoTime() - t0) / 1e6 / n);
    }
    // the two sgemv sweeps on a squared-weight copy of the 4000x4000 layer, for comparison
    int off = lay.weightOffset(1);
    int m = 4000 * 4000;
    Tensor sq = new Tensor(m);
    Tensor x = new Tensor(4000);
    x.fill(1f);
    Tensor y = new Tensor(4000);
    for (int rep = 0; rep < 3; rep++) {
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        var wb = net.params().buffer();
        var sb = sq.buffer();
        for (int j = 0; j < m; j++) {
          float w = wb.get(off + j);
          sb.put(j, w * w);
        }
      }
      long t1 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        Blas.sgemv(false, 4000, 4000, 1f, sq, 0, x, 0, 0f, y, 0);
        Blas.sgemv(true, 4000, 4000, 1f, sq, 0, y, 0, 0f, x, 0);
      }
      long t2 = System.nanoTime();
      System.out.printf("4000x4000 layer: square copy %.2f ms, two sgemv %.2f ms%n", (t1 - t0) / 1e6 / n,
          (t2 - t1) / 1e6 / n);
    }
  }
}
