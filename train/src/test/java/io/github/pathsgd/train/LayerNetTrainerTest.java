package io.github.pathsgd.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.LayerSpec;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.data.Dataset;
import io.github.pathsgd.train.history.RunResult;
import io.github.pathsgd.train.listener.TrainingListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A conv net in the {@link Trainer}: it learns, and a run killed after a checkpoint resumes to the same bits. */
class LayerNetTrainerTest {
  /** 1×6×6 images of 3 classes: a bright bar in the top, middle or bottom rows, with noise. */
  static Dataset bars(int n, long seed) {
    Rng r = new Rng(seed);
    float[] x = new float[n * 36];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = i % 3;
      for (int j = 0; j < 36; j++) {
        x[i * 36 + j] = (float) (r.nextGaussian() * 0.3 + (j / 12 == y[i] ? 1 : 0));
      }
    }
    return new Dataset("bars", x, y, n, 1, 6, 6, 3);
  }

  private static LayerNet net() {
    LayerNet n = LayerSpec.parse("conv(4,3,pad=1),maxpool(2),dense(8)").build(1, 6, 6, 3);
    Init.balanced(n, new Rng(5));
    return n;
  }

  private static Trainer trainer(LayerNet n, Supplier<Optimizer> opt, int epochs) {
    Trainer.Options o = new Trainer.Options(10, epochs, new Dropout(0.7f, 0.9f), 42, 0, false, true, 64);
    return new Trainer(n, opt.get(), bars(120, 1), bars(30, 2), bars(30, 3), o, "conv-h");
  }

  @Test
  void learnsWithEveryOptimizer() {
    for (Supplier<Optimizer> o : java.util.List.<Supplier<Optimizer>>of(() -> Optimizers.sgd(0.05, 0.9, false),
        () -> Optimizers.adagrad(0.05), () -> Optimizers.pathSgd(0.02, 2, 0.9, false))) {
      RunResult r = trainer(net(), o, 6).run(TrainingListener.NONE, null);
      assertThat(r.status()).isEqualTo(RunResult.COMPLETED);
      assertThat(r.last().testError()).as(o.get().toString()).isLessThan(0.1);
      assertThat(r.history().get(0).trainLoss()).isGreaterThan(3 * r.last().trainLoss());
    }
  }

  @Test
  void killedRunResumesToTheSameBitsWithPathSgdMomentumAndDropout(@TempDir Path tmp) {
    Supplier<Optimizer> opt = () -> Optimizers.pathSgd(0.02, 2, 0.9, false);
    RunResult full = trainer(net(), opt, 4).run(TrainingListener.NONE, null);
    Path ckpt = tmp.resolve("checkpoint.bin");
    Trainer.Options two = new Trainer.Options(10, 2, new Dropout(0.7f, 0.9f), 42, 0, false, true, 64);
    new Trainer(net(), opt.get(), bars(120, 1), bars(30, 2), bars(30, 3), two, "conv-h")
        .run(TrainingListener.NONE, ckpt);
    assertThat(Files.exists(ckpt)).isTrue();
    RunResult resumed = trainer(net(), opt, 4).run(TrainingListener.NONE, ckpt);
    assertThat(resumed.network().params().toArray()).containsExactly(full.network().params().toArray());
    assertThat(resumed.history()).extracting(r -> r.trainLoss() + "/" + r.validationLoss() + "/" + r.testError())
        .isEqualTo(full.history().stream().map(r -> r.trainLoss() + "/" + r.validationLoss() + "/" + r.testError())
            .toList());
    assertThat(resumed.last().trainLoss()).isEqualTo(full.last().trainLoss());
    assertThat(resumed.last().testError()).isEqualTo(full.last().testError());
  }

  @Test
  void checkpointOfAnotherNetworkIsRefused(@TempDir Path tmp) {
    Path ckpt = tmp.resolve("c.bin");
    trainer(net(), () -> Optimizers.sgd(0.05), 1).run(TrainingListener.NONE, ckpt);
    LayerNet other = LayerSpec.parse("conv(5,3,pad=1),maxpool(2),dense(8)").build(1, 6, 6, 3);
    Trainer.Options o = new Trainer.Options(10, 2, Dropout.NONE, 42, 0, false, true, 64);
    Trainer t = new Trainer(other, Optimizers.sgd(0.05), bars(120, 1), null, null, o, "conv-h");
    int p = net().params().size();
    assertThatThrownBy(() -> t.run(TrainingListener.NONE, ckpt)).isInstanceOf(java.io.UncheckedIOException.class)
        .hasMessage("checkpoint " + ckpt + ": layout (network of layers, " + p + " parameters), this run's network is "
            + "(network of layers, " + other.params().size() + " parameters); not resumed (delete "
            + ckpt + " to start the run over)");
  }
}
