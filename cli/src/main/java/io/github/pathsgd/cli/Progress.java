package io.github.pathsgd.cli;

import io.github.pathsgd.train.history.EpochRecord;
import io.github.pathsgd.train.listener.TrainingListener;
import java.io.PrintStream;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Training progress: a progress bar per epoch on a terminal, and one plain line per epoch always (the only output when
 * there is no terminal or CI=true).
 */
final class Progress implements TrainingListener {
  private final PrintStream out;
  private final boolean bar;
  private final String label;
  private ProgressBar pb;
  private int epochs;
  private int steps;

  Progress(PrintStream out, String label, boolean quiet) {
    this.out = out;
    this.label = label;
    this.bar = !quiet && interactive();
  }

  static boolean interactive() {
    return System.console() != null && !"true".equalsIgnoreCase(System.getenv("CI"))
        && System.getenv("PATHSGD_NO_PROGRESS") == null;
  }

  @Override
  public void onStart(int firstEpoch, int epochs, int stepsPerEpoch) {
    this.epochs = epochs;
    this.steps = stepsPerEpoch;
    if (firstEpoch > 1) {
      out.println(label + ": resuming at epoch " + firstEpoch + " of " + epochs);
    }
  }

  @Override
  public void onStep(int epoch, int step, double loss) {
    if (!bar) {
      return;
    }
    if (pb == null) {
      pb = new ProgressBarBuilder().setTaskName("epoch " + epoch + "/" + epochs).setInitialMax(steps)
          .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250).continuousUpdate().build();
    }
    pb.stepTo(step);
    if (step % 10 == 0) {
      pb.setExtraMessage(String.format(Locale.ROOT, "loss %.4f", loss));
    }
  }

  @Override
  public void onEpoch(EpochRecord r) {
    if (pb != null) {
      pb.close();
      pb = null;
    }
    out.println(line(r));
    out.flush();
  }

  static String line(EpochRecord r) {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "epoch %3d  train loss %.4f  train err %6.2f%%",
        r.epoch(), r.trainLoss(), 100 * r.trainError()));
    if (!Double.isNaN(r.validationError())) {
      sb.append(String.format(Locale.ROOT, "  val err %6.2f%%", 100 * r.validationError()));
    }
    if (!Double.isNaN(r.testError())) {
      sb.append(String.format(Locale.ROOT, "  test err %6.2f%%", 100 * r.testError()));
    }
    if (r.epoch() > 0) {
      sb.append(String.format(Locale.ROOT, "  %.1fs", r.seconds()));
    }
    return sb.toString();
  }
}
