package demo;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.github.pathsgd.data.DataRequest;
import io.github.pathsgd.data.DataSplits;
import io.github.pathsgd.data.Dataset;
import io.github.pathsgd.data.Datasets;
import io.github.pathsgd.djl.NormsListener;
import io.github.pathsgd.djl.PathSgdListener;
import java.util.Locale;

/** MNIST (pathsgd's bundled 8,000/2,000 sample) trained in DJL's own loop with Path-SGD from pathsgd-djl. */
public final class DjlDemo {
  public static void main(String[] args) throws Exception {
    DataSplits mnist = Datasets.load(DataRequest.of("mnist-sample", null));
    Block net = new SequentialBlock()
        .add(Linear.builder().setUnits(256).build()).add(Activation.reluBlock())
        .add(Linear.builder().setUnits(10).build());
    DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
        .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.05f)).build())
        .addTrainingListeners(PathSgdListener.of(2), // Path-SGD: DJL's Sgd applies the path-normalized gradient
            new NormsListener(null, (epoch, norms) -> System.out.printf(Locale.ROOT,
                "epoch %d: path norm phi_2 %.4g%n", epoch, norms.get("path_norm_2"))));
    Engine.getInstance().setRandomSeed(42); // DJL's initial weights and batch order: the same in every run
    try (Model model = Model.newInstance("mnist")) {
      model.setBlock(net);
      try (Trainer trainer = model.newTrainer(config)) {
        trainer.initialize(new Shape(100, 784));
        EasyTrain.fit(trainer, 2, arrays(trainer.getManager(), mnist.train()), null);
        Dataset test = mnist.test();
        NDArray logits = trainer.evaluate(new NDList(trainer.getManager().create(test.x(),
            new Shape(test.n(), test.dim())))).singletonOrThrow();
        long[] predicted = logits.argMax(1).toLongArray();
        int right = 0;
        for (int i = 0; i < test.n(); i++) {
          right += predicted[i] == test.y()[i] ? 1 : 0;
        }
        float accuracy = (float) right / test.n();
        System.out.printf(Locale.ROOT, "path-sgd in djl: test accuracy %.3f after 2 epochs%n", accuracy);
        if (!(accuracy > 0.85f)) {
          throw new IllegalStateException("Path-SGD did not train: test accuracy " + accuracy);
        }
      }
    }
  }

  /** pathsgd's arrays (rows of 784 pixels in [0, 1], integer labels) as a DJL dataset of batches of 100. */
  static ArrayDataset arrays(NDManager m, Dataset d) {
    float[] labels = new float[d.n()];
    for (int i = 0; i < d.n(); i++) {
      labels[i] = d.y()[i];
    }
    return new ArrayDataset.Builder().setData(m.create(d.x(), new Shape(d.n(), d.dim())))
        .optLabels(m.create(labels)).setSampling(100, true).build();
  }
}
