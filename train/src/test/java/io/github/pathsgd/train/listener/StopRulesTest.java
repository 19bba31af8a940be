package io.github.pathsgd.train.listener;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.train.Trainer;
import io.github.pathsgd.train.TrainerTest;
import io.github.pathsgd.train.history.RunResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The divergence bound, and the stop rules of a run that is resumed after a kill between its last checkpoint and
 * its summary: the resumed run reports what the uninterrupted one reported.
 */
class StopRulesTest {
  static Trainer trainer(double lr, int epochs, double stopLoss, boolean zeroError, double divergenceFactor) {
    LayerNet net = Init.balanced(new DenseChain(6, 16, 16, 3), new Rng(5));
    Trainer.Options o = new Trainer.Options(10, epochs, Dropout.NONE, 42, stopLoss, zeroError, true, 64,
        divergenceFactor);
    return new Trainer(net, Optimizers.sgd(lr, 0.9, false), TrainerTest.blobs(300, 1), TrainerTest.blobs(60, 2),
        TrainerTest.blobs(90, 3), o, "h");
  }

  static List<Double> stepLosses(Trainer t, List<RunResult> result) {
    List<Double> steps = new ArrayList<>();
    result.add(t.run(new TrainingListener() {
      @Override
      public void onStep(int epoch, int step, double loss) {
        steps.add(loss);
      }
    }, null));
    return steps;
  }

  @Test
  void anExplodingButFiniteLossIsDivergence() {
    // with the bound off, η = 10 sends the mini-batch loss from 1.18 to 2e13 without a NaN, and the run "completes"
    // with a final training loss 7 times the initial one
    List<RunResult> off = new ArrayList<>();
    List<Double> offSteps = stepLosses(trainer(10, 2, 0, false, 0), off);
    double initial = off.get(0).history().get(0).trainLoss();
    double bound = 1000 * Math.max(initial, Math.log(3));
    assertThat(off.get(0).status()).isEqualTo(RunResult.COMPLETED);
    assertThat(offSteps).allMatch(Double::isFinite);
    assertThat(offSteps.stream().mapToDouble(d -> d).max().orElseThrow()).isGreaterThan(1e12);
    int first = 0;
    while (offSteps.get(first) <= bound) {
      first++;
    }
    // the default bound stops it at the first step above 1000 x the initial loss, and says where and why
    List<RunResult> on = new ArrayList<>();
    List<Double> onSteps = stepLosses(trainer(10, 2, 0, false, 1000), on);
    RunResult r = on.get(0);
    assertThat(r.status()).isEqualTo(RunResult.DIVERGED);
    assertThat(onSteps).containsExactlyElementsOf(offSteps.subList(0, first));
    assertThat(r.reason()).isEqualTo(String.format(java.util.Locale.ROOT, "training loss became %s at epoch 1, step %d "
        + "of 30, above the divergence bound %.6g (divergence_factor 1000.0 x max(initial training loss %.6g, ln 3))",
        offSteps.get(first), first + 1, bound, initial));
    assertThat(r.epochsCompleted()).isZero();
  }

  @Test
  void anOrdinaryRunStaysFarBelowTheBound() {
    RunResult r = trainer(0.05, 3, 0, false, 1000).run(TrainingListener.NONE, null);
    assertThat(r.status()).isEqualTo(RunResult.COMPLETED);
    assertThat(r.reason()).isEqualTo("epoch budget of 3 reached");
  }

  /** Runs to the end with a checkpoint (which only the caller removes), then resumes from that last checkpoint. */
  static void resumedEqualsUninterrupted(Path tmp, double stopLoss, boolean zeroError, int epochs, String reason) {
    Path ckpt = tmp.resolve("checkpoint.bin");
    RunResult full = trainer(0.05, epochs, stopLoss, zeroError, 1000).run(TrainingListener.NONE, ckpt);
    assertThat(full.reason()).matches(reason);
    assertThat(Files.exists(ckpt)).isTrue(); // "killed" before the summary: the checkpoint is still there
    List<Integer> steps = new ArrayList<>();
    RunResult resumed = trainer(0.05, epochs, stopLoss, zeroError, 1000).run(new TrainingListener() {
      @Override
      public void onStep(int epoch, int step, double loss) {
        steps.add(step);
      }
    }, ckpt);
    assertThat(steps).isEmpty(); // nothing trained again
    assertThat(resumed.status()).isEqualTo(full.status());
    assertThat(resumed.reason()).isEqualTo(full.reason());
    assertThat(resumed.epochsCompleted()).isEqualTo(full.epochsCompleted());
    assertThat(resumed.network().params().toArray()).containsExactly(full.network().params().toArray());
    // everything the run's summary.json is made of (RunWriter.summary is a function of these)
    assertThat(resumed.history()).isEqualTo(full.history());
  }

  @Test
  void resumedAfterTheLastEpochReportsTheBudget(@TempDir Path tmp) {
    resumedEqualsUninterrupted(tmp, 0, false, 3, "epoch budget of 3 reached");
  }

  @Test
  void resumedAfterAnEarlyStopStopsThereAgain(@TempDir Path tmp) {
    // stops at the loss threshold well before the 60-epoch budget; resuming must not train on
    resumedEqualsUninterrupted(tmp, 0.05, false, 60, "training loss [0-9.E-]+ fell below 0.05 after epoch [1-9]");
  }

  @Test
  void resumedAfterZeroTrainingErrorStopsThereAgain(@TempDir Path tmp) {
    resumedEqualsUninterrupted(tmp, 0, true, 60, "training error reached 0 after epoch [1-9]");
  }
}
