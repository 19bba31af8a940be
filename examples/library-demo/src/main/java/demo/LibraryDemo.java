package demo;

import io.github.pathsgd.core.nn.StepStats;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.step.TrainStep;
import io.github.pathsgd.core.util.Rng;
import java.util.Locale;

/** Trains a small ReLU network with Path-SGD on a synthetic two-class problem through the pathsgd library. */
public final class LibraryDemo {
  public static void main(String[] args) {
    int d = 8;
    int batch = 32;
    DenseChain layout = new DenseChain(d, 16, 16, 2);
    LayerNet net = Init.balanced(layout, new Rng(42));
    TrainStep step = new TrainStep(net, Optimizers.pathSgd(0.05, 2), batch);
    Rng data = new Rng(7);
    int[] labels = new int[batch];
    double first = Double.NaN;
    double last = Double.NaN;
    for (int s = 0; s < 300; s++) {
      // class = sign of the sum of the inputs
      for (int i = 0; i < batch; i++) {
        double sum = 0;
        for (int j = 0; j < d; j++) {
          float v = data.nextFloat() * 2 - 1;
          step.workspace().input().set(i * d + j, v);
          sum += v;
        }
        labels[i] = sum > 0 ? 1 : 0;
      }
      StepStats st = step.run(batch, labels, Dropout.NONE, null);
      if (s == 0) {
        first = st.loss();
      }
      last = st.loss();
    }
    System.out.printf(Locale.ROOT, "path-sgd: batch loss %.4f at step 1, %.4f at step 300%n", first, last);
    if (!(last < 0.5 * first)) {
      throw new IllegalStateException("Path-SGD did not train: loss " + first + " -> " + last);
    }
  }
}
