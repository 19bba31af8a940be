package io.github.pathsgd.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.data.Dataset;
import io.github.pathsgd.train.history.EpochRecord;
import io.github.pathsgd.train.history.RunResult;
import io.github.pathsgd.train.listener.TrainingListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training loop on a small synthetic problem: learning, determinism, divergence, stopping and resuming. */
public class TrainerTest {

  /** Two Gaussian blobs per class in 6 dimensions, 3 classes: easy to fit. */
  public static Dataset blobs(int n, long seed) {
    Rng r = new Rng(seed);
    float[] x = new float[n * 6];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = i % 3;
      for (int j = 0; j < 6; j++) {
        x[i * 6 + j] = (float) (r.nextGaussian() * 0.5 + (j % 3 == y[i] ? 2 : 0));
      }
    }
    return new Dataset("blobs", x, y, n, 1, 1, 6, 3);
  }

  static Trainer trainer(double lr, int epochs, Dropout dropout, double stopLoss) {
    LayerNet net = Init.balanced(new DenseChain(6, 16, 16, 3), new Rng(5));
    Trainer.Options o = new Trainer.Options(10, epochs, dropout, 42, stopLoss, false, true, 64);
    return new Trainer(net, Optimizers.sgd(lr, 0.9, false), blobs(300, 1), blobs(60, 2), blobs(90, 3), o, "h");
  }

  @Test
  void learnsAndRecordsEveryEpoch() {
    RunResult r = trainer(0.05, 5, Dropout.NONE, 0).run(TrainingListener.NONE, null);
    assertThat(r.status()).isEqualTo(RunResult.COMPLETED);
    assertThat(r.epochsCompleted()).isEqualTo(5);
    assertThat(r.history()).extracting(EpochRecord::epoch).containsExactly(0, 1, 2, 3, 4, 5);
    assertThat(r.history().get(0).trainLoss()).isGreaterThan(0.5);
    assertThat(r.last().trainLoss()).isLessThan(0.1);
    assertThat(r.last().testError()).isLessThan(0.05);
    assertThat(r.last().validationError()).isLessThan(0.05);
  }

  @Test
  void sameSeedSameResultsWithDropout() {
    RunResult a = trainer(0.05, 3, new Dropout(0.5f, 1f), 0).run(TrainingListener.NONE, null);
    RunResult b = trainer(0.05, 3, new Dropout(0.5f, 1f), 0).run(TrainingListener.NONE, null);
    assertThat(b.network().params().toArray()).containsExactly(a.network().params().toArray());
  }

  @Test
  void hugeStepDivergesWithAReason() {
    RunResult r = trainer(1e6, 5, Dropout.NONE, 0).run(TrainingListener.NONE, null);
    assertThat(r.status()).isEqualTo(RunResult.DIVERGED);
    assertThat(r.reason()).contains("training loss became");
    assertThat(r.epochsCompleted()).isLessThan(5);
  }

  @Test
  void stopsWhenTrainLossFallsBelowThreshold() {
    RunResult r = trainer(0.05, 50, Dropout.NONE, 0.05).run(TrainingListener.NONE, null);
    assertThat(r.status()).isEqualTo(RunResult.COMPLETED);
    assertThat(r.epochsCompleted()).isLessThan(50);
    assertThat(r.last().trainLoss()).isLessThan(0.05);
    assertThat(r.reason()).contains("fell below");
  }

  @Test
  void killedRunResumesToTheSameResult(@TempDir Path tmp) throws Exception {
    RunResult full = trainer(0.05, 4, new Dropout(0.5f, 1f), 0).run(TrainingListener.NONE, null);
    Path ckpt = tmp.resolve("checkpoint.bin");
    // run 2 epochs, "killed" afterwards: emulate by a run with a 2-epoch budget writing the same config hash
    LayerNet net = Init.balanced(new DenseChain(6, 16, 16, 3), new Rng(5));
    Trainer.Options two = new Trainer.Options(10, 2, new Dropout(0.5f, 1f), 42, 0, false, true, 64);
    new Trainer(net, Optimizers.sgd(0.05, 0.9, false), blobs(300, 1), blobs(60, 2), blobs(90, 3), two, "h")
        .run(TrainingListener.NONE, ckpt);
    assertThat(Files.exists(ckpt)).isTrue();
    List<Integer> started = new ArrayList<>();
    List<Integer> earlier = new ArrayList<>();
    RunResult resumed = trainer(0.05, 4, new Dropout(0.5f, 1f), 0).run(new TrainingListener() {
      @Override
      public void onResume(List<EpochRecord> records) {
        records.forEach(r -> earlier.add(r.epoch()));
      }

      @Override
      public void onStart(int firstEpoch, int epochs, int steps) {
        started.add(firstEpoch);
      }
    }, ckpt);
    assertThat(started).containsExactly(3);
    assertThat(earlier).containsExactly(0, 1, 2);
    assertThat(resumed.network().params().toArray()).containsExactly(full.network().params().toArray());
    assertThat(resumed.history()).hasSize(5);
    assertThat(resumed.last().trainLoss()).isEqualTo(full.last().trainLoss());
  }

  @Test
  void checkpointOfAnotherConfigIsRefused(@TempDir Path tmp) throws Exception {
    Path ckpt = tmp.resolve("c.bin");
    trainer(0.05, 1, Dropout.NONE, 0).run(TrainingListener.NONE, ckpt);
    byte[] before = Files.readAllBytes(ckpt);
    LayerNet net = Init.balanced(new DenseChain(6, 16, 16, 3), new Rng(5));
    Trainer.Options o = new Trainer.Options(10, 2, Dropout.NONE, 42, 0, false, true, 64);
    List<Integer> started = new ArrayList<>();
    Trainer other = new Trainer(net, Optimizers.sgd(0.05), blobs(300, 1), null, null, o, "other");
    // it used to be ignored and trained over; now the run stops before training and leaves the file alone
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> other.run(new TrainingListener() {
      @Override
      public void onStart(int firstEpoch, int epochs, int steps) {
        started.add(firstEpoch);
      }
    }, ckpt)).isInstanceOf(java.io.UncheckedIOException.class)
        .hasMessage("checkpoint " + ckpt + ": written for config hash h, this run's is other; not resumed (delete "
            + ckpt + " to start the run over)");
    assertThat(started).isEmpty();
    assertThat(Files.readAllBytes(ckpt)).isEqualTo(before);
  }
}
