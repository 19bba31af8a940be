package io.github.pathsgd.train;

import static io.github.pathsgd.train.TrainerTest.blobs;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.core.geometry.ModelNorms;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.step.TrainStep;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.data.Dataset;
import io.github.pathsgd.train.history.EpochRecord;
import io.github.pathsgd.train.history.RunResult;
import io.github.pathsgd.train.listener.Stop;
import io.github.pathsgd.train.listener.TrainingListener;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The step budget ({@code max_steps}) and the norms recorded after every epoch. */
class StepBudgetAndNormsTest {
  static final DenseChain LAYOUT = new DenseChain(6, 16, 16, 3);
  static final Dataset TRAIN = blobs(300, 1); // 30 steps of 10 per epoch

  static Trainer trainer(int epochs, boolean norms, long maxSteps, Dropout dropout) {
    LayerNet net = Init.balanced(LAYOUT, new Rng(5));
    Trainer.Options o = new Trainer.Options(10, epochs, dropout, 42, 0, false, true, 64,
        Trainer.Options.DEFAULT_DIVERGENCE_FACTOR, norms, maxSteps);
    return new Trainer(net, Optimizers.sgd(0.05, 0.9, false), TRAIN, blobs(60, 2), blobs(90, 3), o, "h");
  }

  /** K steps of the loop equal K steps of TrainStep on the same batches (the loop's shuffle streams), bit for bit. */
  @Test
  void kStepsEqualKStepsOfTrainStepAndEndInAPartialEpoch() {
    int k = 47; // epoch 1 whole (30 steps), then 17 of epoch 2's 30
    RunResult r = trainer(10, false, k, Dropout.NONE).run(TrainingListener.NONE, null);
    assertThat(r.status()).isEqualTo(RunResult.COMPLETED);
    assertThat(r.reason()).isEqualTo("step budget of 47 steps reached in epoch 2 (a partial epoch: 17 of its 30 "
        + "steps)");
    assertThat(r.epochsCompleted()).isEqualTo(2);
    assertThat(r.history()).extracting(EpochRecord::epoch).containsExactly(0, 1, 2);

    LayerNet net = Init.balanced(LAYOUT, new Rng(5));
    TrainStep step = new TrainStep(net, Optimizers.sgd(0.05, 0.9, false), 10);
    Rng root = new Rng(42);
    int[] order = new int[TRAIN.n()];
    int[] labels = new int[10];
    int taken = 0;
    for (int e = 1; taken < k; e++) {
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      root.split("shuffle/" + e).shuffle(order);
      Rng drop = root.split("dropout/" + e);
      for (int s = 0; s < 30 && taken < k; s++, taken++) {
        for (int b = 0; b < 10; b++) {
          step.workspace().input().copyFrom(TRAIN.x(), order[s * 10 + b] * 6, b * 6, 6);
          labels[b] = TRAIN.y()[order[s * 10 + b]];
        }
        step.run(10, labels, Dropout.NONE, drop);
      }
    }
    assertThat(r.network().params().toArray()).containsExactly(net.params().toArray());
    // the partial epoch is evaluated on the network after step K: a clean pass over the training set
    double[] t = Trainer.evaluate(net, TRAIN, 64);
    assertThat(r.last().trainLoss()).isEqualTo(t[0]);
    assertThat(r.last().trainError()).isEqualTo(t[1]);
    assertThat(r.last().testLoss()).isEqualTo(Trainer.evaluate(net, blobs(90, 3), 64)[0]);
  }

  /** K steps with dropout give the parameters a longer run has after its K-th step. */
  @Test
  void kStepsAreTheFirstKStepsOfALongerRun() {
    float[][] atK = new float[1][];
    Trainer longer = trainer(3, false, 0, new Dropout(0.5f, 1f));
    longer.run(new TrainingListener() {
      @Override
      public Stop afterStep(int epoch, int step, int steps, double loss) {
        if ((epoch - 1) * steps + step == 41) {
          atK[0] = longer.network().params().toArray();
        }
        return null;
      }
    }, null);
    RunResult r = trainer(3, false, 41, new Dropout(0.5f, 1f)).run(TrainingListener.NONE, null);
    assertThat(r.network().params().toArray()).containsExactly(atK[0]);
  }

  /** A budget that ends an epoch ends it as a whole epoch (checkpointed), with the reason saying so. */
  @Test
  void aBudgetAtAnEpochsEndIsAWholeEpoch(@TempDir Path tmp) throws Exception {
    Path ckpt = tmp.resolve("c.bin");
    RunResult r = trainer(10, false, 60, Dropout.NONE).run(TrainingListener.NONE, ckpt);
    assertThat(r.reason()).isEqualTo("step budget of 60 steps reached at the end of epoch 2");
    assertThat(r.epochsCompleted()).isEqualTo(2);
    assertThat(r.history()).hasSize(3);
    // killed before its summary: the rerun ends at once with the same reason
    assertThat(Files.exists(ckpt)).isTrue();
    RunResult again = trainer(10, false, 60, Dropout.NONE).run(TrainingListener.NONE, ckpt);
    assertThat(again.reason()).isEqualTo(r.reason());
    assertThat(again.network().params().toArray()).containsExactly(r.network().params().toArray());
  }

  /** Every record, epoch 0 included, holds the norms of the network after that epoch, computed by ModelNorms. */
  @Test
  void normsOfEveryEpochAreThoseOfTheNetworkThen() {
    LayerNet initial = Init.balanced(LAYOUT, new Rng(5));
    float[][] after = new float[4][];
    Trainer t = trainer(3, true, 0, Dropout.NONE);
    RunResult r = t.run(new TrainingListener() {
      @Override
      public void onEpoch(EpochRecord rec) {
        after[rec.epoch()] = t.network().params().toArray();
      }
    }, null);
    assertThat(r.history().get(0).norms()).isEqualTo(ModelNorms.of(initial));
    for (EpochRecord rec : r.history()) {
      LayerNet m = LayerNet.dense(LAYOUT);
      m.params().copyFrom(after[rec.epoch()], 0, 0, after[rec.epoch()].length);
      assertThat(rec.norms()).isEqualTo(ModelNorms.of(m));
      assertThat(rec.normSeconds()).isBetween(0.0, 10.0);
    }
    assertThat(r.last().norms().pathNorm2()).isNotEqualTo(r.history().get(0).norms().pathNorm2());
    // off: no norms anywhere
    assertThat(trainer(1, false, 0, Dropout.NONE).run(TrainingListener.NONE, null).history())
        .allSatisfy(rec -> assertThat(rec.norms()).isNull());
  }

  /** A run killed after epoch 2 and resumed records the same norms for every epoch as the uninterrupted run. */
  @Test
  void resumedRunKeepsTheNormsOfEarlierEpochs(@TempDir Path tmp) {
    RunResult full = trainer(4, true, 0, new Dropout(0.5f, 1f)).run(TrainingListener.NONE, null);
    Path ckpt = tmp.resolve("checkpoint.bin");
    trainer(2, true, 0, new Dropout(0.5f, 1f)).run(TrainingListener.NONE, ckpt);
    RunResult resumed = trainer(4, true, 0, new Dropout(0.5f, 1f)).run(TrainingListener.NONE, ckpt);
    assertThat(resumed.history()).hasSize(5);
    for (int e = 0; e <= 4; e++) {
      assertThat(resumed.history().get(e).norms()).as("epoch %d", e).isEqualTo(full.history().get(e).norms());
    }
  }
}
