package io.github.pathsgd.djl;

import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.List;
import java.util.SplittableRandom;

/** Small DJL models, data and a trainer for the tests. */
final class Fixtures {
  private Fixtures() {}

  /** 12 → dense(16) → dense(8) → 3: an MLP. */
  static Block mlp() {
    return new SequentialBlock().add(Linear.builder().setUnits(16).build()).add(Activation.reluBlock())
        .add(Linear.builder().setUnits(8).build()).add(Activation.reluBlock())
        .add(Linear.builder().setUnits(3).build());
  }

  static final Shape MLP_IN = new Shape(12);

  /** 1×8×8 → conv(4,3,pad=1) → maxpool(2) → conv(5,3) → avgpool(1)... → dense(6) → 3. */
  static Block convNet() {
    return new SequentialBlock()
        .add(Conv2d.builder().setFilters(4).setKernelShape(new Shape(3, 3)).optPadding(new Shape(1, 1)).build())
        .add(Activation.reluBlock()).add(PathSgdBlocks.maxPool2d(2, 2))
        .add(Conv2d.builder().setFilters(5).setKernelShape(new Shape(3, 3)).build()).add(Activation.reluBlock())
        .add(PathSgdBlocks.avgPool2d(2, 1)).add(Blocks.batchFlattenBlock())
        .add(Linear.builder().setUnits(6).build()).add(Activation.reluBlock())
        .add(Linear.builder().setUnits(3).build());
  }

  static final Shape CONV_IN = new Shape(1, 8, 8);

  /** y = relu(x + F(x)), x and F(x) added by the block's function (as DJL's own ResNet blocks do). */
  static Block residual(Block f) {
    return new ParallelBlock(list -> new NDList(list.get(0).singletonOrThrow().add(list.get(1).singletonOrThrow())),
        List.of(f, Blocks.identityBlock()));
  }

  /** 1×6×6 → conv(3,3,pad=1) → res(conv(3,3,pad=1), conv(3,3,pad=1)) → dense: a residual conv net. */
  static Block resNet() {
    SequentialBlock f = new SequentialBlock().add(conv(3, 1)).add(Activation.reluBlock()).add(conv(3, 1));
    return new SequentialBlock().add(conv(3, 1)).add(Activation.reluBlock()).add(residual(f))
        .add(Activation.reluBlock()).add(Blocks.batchFlattenBlock()).add(Linear.builder().setUnits(3).build());
  }

  static final Shape RES_IN = new Shape(1, 6, 6);

  /** 10 → dense(12) → res(dense(7), dense(12)) → 3: a residual MLP. */
  static Block resMlp() {
    SequentialBlock f = new SequentialBlock().add(Linear.builder().setUnits(7).build()).add(Activation.reluBlock())
        .add(Linear.builder().setUnits(12).build());
    return new SequentialBlock().add(Linear.builder().setUnits(12).build()).add(Activation.reluBlock())
        .add(residual(f)).add(Activation.reluBlock()).add(Linear.builder().setUnits(3).build());
  }

  static final Shape RES_MLP_IN = new Shape(10);

  static Conv2d conv(int filters, int pad) {
    return Conv2d.builder().setFilters(filters).setKernelShape(new Shape(3, 3)).optPadding(new Shape(pad, pad))
        .build();
  }

  /** n rows of uniform [-1, 1) inputs of {@code in} features and labels in [0, classes), from {@code seed}. */
  static float[] inputs(int n, long in, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[(int) (n * in)];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (2 * r.nextDouble() - 1);
    }
    return x;
  }

  static int[] labels(int n, int classes, long seed) {
    SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = r.nextInt(classes);
    }
    return y;
  }

  /** A model of {@code block} with a trainer: softmax cross-entropy, DJL's Sgd at a fixed rate with momentum. */
  static Trainer trainer(Model model, Block block, Shape in, int batch, float lr, float momentum,
      TrainingListener... listeners) {
    model.setBlock(block);
    Optimizer sgd = Optimizer.sgd().setLearningRateTracker(Tracker.fixed(lr)).optMomentum(momentum).build();
    DefaultTrainingConfig cfg = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss()).optOptimizer(sgd)
        .addTrainingListeners(listeners);
    Trainer t = model.newTrainer(cfg);
    ai.djl.engine.Engine.getInstance().setRandomSeed(20261207); // the same initial weights in every run
    long[] dims = new long[in.dimension() + 1];
    dims[0] = batch;
    System.arraycopy(in.getShape(), 0, dims, 1, in.dimension());
    t.initialize(new Shape(dims));
    return t;
  }

  /** One epoch of {@code EasyTrain.fit} over the rows in order, batches of {@code batch}. */
  static void fit(Trainer t, float[] x, int[] y, Shape in, int batch) throws Exception {
    NDManager m = t.getManager();
    int n = y.length;
    long[] dims = new long[in.dimension() + 1];
    dims[0] = n;
    System.arraycopy(in.getShape(), 0, dims, 1, in.dimension());
    float[] yf = new float[n];
    for (int i = 0; i < n; i++) {
      yf[i] = y[i];
    }
    ArrayDataset ds = new ArrayDataset.Builder().setData(m.create(x, new Shape(dims)))
        .optLabels(m.create(yf, new Shape(n))).setSampling(batch, false).build();
    EasyTrain.fit(t, 1, ds, null);
  }
}
