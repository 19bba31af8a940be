// Where the Path-SGD step's extra time goes on an MLP IN-H-H-10 (docs/performance.md, "Why the 2-thread step of small
// networks stays over 1.10"): the κ pass (Foldable.prepare) timed hot (called repeatedly on the same weights) and in
// situ (right after the previous step's update GEMM) and after the forward pass (where TrainStep runs it), the folded step with and without row/column
// scales, and whole SGD and Path-SGD steps. Batch 100, balanced init, p = 2. Run from the repository root after
// `./pathsgd --version` has built the jar:
//
//   OPENBLAS_THREAD_TIMEOUT=20 java --add-modules jdk.incubator.vector -cp cli/target/pathsgd.jar \
//       scripts/KappaInSitu.java IN H THREADS STEPS          # e.g. 784 256 2 3000
//
// and with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE` in front for the kernel OpenBLAS detects. Each line is one
// round of STEPS steps of each measurement; the first rounds include the JIT's warm-up.
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.FoldedStep;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.optim.Foldable;
import io.github.pathsgd.core.optim.OptState;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.step.TrainStep;
import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;

public class KappaInSitu {
  public static void main(String[] a) {
    int in = Integer.parseInt(a[0]);
    int h = Integer.parseInt(a[1]);
    Blas.setThreads(Integer.parseInt(a[2]));
    int n = Integer.parseInt(a[3]);
    int batch = 100;
    DenseChain lay = new DenseChain(in, h, h, 10);
    LayerNet sgdNet = Init.balanced(lay, new Rng(1));
    LayerNet pathNet = sgdNet.copy();
    TrainStep sgd = new TrainStep(sgdNet, Optimizers.sgd(0.001), batch);
    TrainStep path = new TrainStep(pathNet, Optimizers.pathSgd(0.001, 2), batch);
    int[] y = new int[batch];
    for (int i = 0; i < batch; i++) {
      y[i] = i % 10;
    }
    for (TrainStep s : new TrainStep[] {sgd, path}) {
      Tensor x = s.workspace().input();
      for (int i = 0; i < batch * in; i++) {
        x.buffer().put(i, (float) ((i * 7919 % 1000) / 1000.0));
      }
    }
    OptState st = path.state();
    Foldable<?> fold = (Foldable<?>) path.optimizer().transform();
    FoldedStep fs = new FoldedStep(lay);
    FoldedStep plain = new FoldedStep(lay);
    plain.scale(-1e-9);
    Network.Workspace ws = (Network.Workspace) path.workspace();
    System.out.printf("%s, %d-%d-%d-10, batch %d, %d steps per figure (microseconds per step)%n", Blas.describe(), in, h,
        h, batch, n);
    for (int rep = 0; rep < 5; rep++) {
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        sgd.run(batch, y, Dropout.NONE, null);
      }
      long t1 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        path.run(batch, y, Dropout.NONE, null);
      }
      long t2 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        fs.reset();
        fold.prepareUnchecked(st, pathNet.params(), fs);
      }
      long t3 = System.nanoTime();
      long prep = 0;
      long step = 0;
      for (int i = 0; i < n; i++) {
        long q0 = System.nanoTime();
        fs.reset();
        fold.prepareUnchecked(st, pathNet.params(), fs);
        long q1 = System.nanoTime();
        pathNet.fusedStep(ws, batch, y, 0, Dropout.NONE, null, fs);
        prep += q1 - q0;
        step += System.nanoTime() - q1;
      }
      long t4 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        pathNet.fusedStep(ws, batch, y, 0, Dropout.NONE, null, plain);
      }
      long t5 = System.nanoTime();
      long after = 0;
      for (int i = 0; i < n; i++) { // as TrainStep runs it: forward, κ, folded backward
        pathNet.forward(ws, batch, Dropout.NONE, null);
        long q0 = System.nanoTime();
        fs.reset();
        fold.prepareUnchecked(st, pathNet.params(), fs);
        after += System.nanoTime() - q0;
        pathNet.fusedBackward(ws, batch, y, 0, Dropout.NONE, fs);
        fold.commitUnchecked(st);
      }
      System.out.printf("  κ pass after the forward pass %.1f%n", us(after, n));
      System.out.printf("SGD step %.1f, Path-SGD step %.1f (ratio %.3f); κ pass hot %.1f, in situ %.1f; folded step"
          + " with Path-SGD's scales %.1f, without %.1f%n", us(t1 - t0, n), us(t2 - t1, n), (double) (t2 - t1) / (t1 - t0),
          us(t3 - t2, n), us(prep, n), us(step, n), us(t5 - t4, n));
    }
  }

  private static double us(long ns, int n) {
    return ns / 1e3 / n;
  }
}
