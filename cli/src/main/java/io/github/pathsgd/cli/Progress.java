package io.github.pathsgd.cli;

import io.github.pathsgd.train.history.EpochRecord;
import io.github.pathsgd.train.listener.TrainingListener;
import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Training progress: a progress bar per epoch on a terminal, and one plain line per epoch always (the only output when
 * there is no terminal or CI=true). The bar's line fits {@link #WIDTH} columns and shows the epoch, samples/s (steps/s
 * when the batch size is not known), the ETA of the run and, in a sweep, of the sweep, and the running mean of this
 * epoch's batch losses, labelled "batch-mean loss" (the loss of the batches as they were trained, with dropout and a
 * moving network, not the clean train loss of the epoch line).
 */
final class Progress implements TrainingListener {
  /** The widest line the bar draws. */
  static final int WIDTH = 80;

  /** Where a run stands in its sweep: run {@code run} (1-based) of {@code runs}. */
  record Sweep(int run, int runs) {}

  /** What one bar line shows. NaN: not known yet. */
  record State(Sweep sweep, int epoch, int epochs, int step, int steps, double stepsPerSecond, int batchSize,
      double runEtaSeconds, double sweepEtaSeconds, double batchMeanLoss) {}

  private final PrintStream out;
  private final boolean bar;
  private final String label;
  private final int batchSize;
  private final Sweep sweep;
  private final LongSupplier clock;
  private ProgressBar pb;
  private int firstEpoch = 1;
  private int epochs;
  private int steps;
  private long startNanos = -1;
  private double lossSum;
  private int lossCount;
  private volatile State state;
  private boolean epochLines = true;

  Progress(PrintStream out, String label, boolean quiet) {
    this(out, label, quiet, 0, null);
  }

  /**
   * @param batchSize the batch size (samples per step) for samples/s; 0 shows steps/s
   * @param sweep where the run stands in its sweep, for the sweep's ETA; null outside a sweep
   */
  Progress(PrintStream out, String label, boolean quiet, int batchSize, Sweep sweep) {
    this(out, label, !quiet && interactive(), batchSize, sweep, System::nanoTime);
  }

  Progress(PrintStream out, String label, boolean bar, int batchSize, Sweep sweep, LongSupplier clock) {
    this.out = out;
    this.label = label;
    this.bar = bar;
    this.batchSize = batchSize;
    this.sweep = sweep;
    this.clock = clock;
  }

  /** This listener without the per-epoch lines (a sweep logs one line per run): the bar only. */
  Progress withoutEpochLines() {
    epochLines = false;
    return this;
  }

  /** What the bar draws now (null before the first step). */
  State state() {
    return state;
  }

  static boolean interactive() {
    return System.console() != null && !"true".equalsIgnoreCase(System.getenv("CI"))
        && System.getenv("PATHSGD_NO_PROGRESS") == null;
  }

  @Override
  public void onStart(int firstEpoch, int epochs, int stepsPerEpoch) {
    this.firstEpoch = firstEpoch;
    this.epochs = epochs;
    this.steps = stepsPerEpoch;
    if (firstEpoch > 1) {
      out.println(label + ": resuming at epoch " + firstEpoch + " of " + epochs);
    }
  }

  @Override
  public void onStep(int epoch, int step, double loss) {
    update(epoch, step, loss);
    if (!bar) {
      return;
    }
    if (pb == null) {
      pb = new ProgressBarBuilder().setTaskName("").setInitialMax(steps).setStyle(ProgressBarStyle.ASCII)
          .setUpdateIntervalMillis(250).continuousUpdate().setMaxRenderedLength(WIDTH)
          .setRenderer((ps, max) -> state == null ? "" : render(state, Math.min(max, WIDTH))).build();
    }
    pb.stepTo(step);
  }

  /** Updates the state the bar draws after step {@code step} (1-based) of {@code epoch}. */
  State update(int epoch, int step, double loss) {
    long now = clock.getAsLong();
    if (startNanos < 0) {
      // the clock starts at the first step: the rate is over the steps after it
      startNanos = now;
    }
    if (step == 1) {
      lossSum = 0;
      lossCount = 0;
    }
    if (Double.isFinite(loss)) {
      lossSum += loss;
      lossCount++;
    }
    long total = (long) (epochs - firstEpoch + 1) * steps;
    long done = (long) (epoch - firstEpoch) * steps + step;
    double seconds = (now - startNanos) / 1e9;
    double rate = done > 1 && seconds > 0 ? (done - 1) / seconds : Double.NaN;
    double runEta = Double.isNaN(rate) ? Double.NaN : (total - done) / rate;
    double sweepEta = Double.NaN;
    if (sweep != null && !Double.isNaN(runEta)) {
      // the runs after this one take as long as this one is estimated to take in all
      sweepEta = runEta + (sweep.runs() - sweep.run()) * (seconds + runEta);
    }
    State s = new State(sweep, epoch, epochs, step, steps, rate, batchSize, runEta, sweepEta,
        lossCount == 0 ? Double.NaN : lossSum / lossCount);
    state = s;
    return s;
  }

  /** One bar line, at most {@code width} columns: the bar itself is left out when the rest leaves it no room. */
  static String render(State s, int width) {
    String left = (s.sweep() == null ? "" : "[" + s.sweep().run() + "/" + s.sweep().runs() + "] ") + "ep " + s.epoch()
        + "/" + s.epochs() + " ";
    String rate = Double.isNaN(s.stepsPerSecond()) ? "-" : s.batchSize() > 0 ? si(s.stepsPerSecond() * s.batchSize())
        : si(s.stepsPerSecond());
    String right = rate + (s.batchSize() > 0 ? " samples/s" : " steps/s") + " ETA " + duration(s.runEtaSeconds())
        + (s.sweep() == null ? "" : " sweep " + duration(s.sweepEtaSeconds())) + " batch-mean loss "
        + (Double.isNaN(s.batchMeanLoss()) ? "-" : String.format(Locale.ROOT, "%.4f", s.batchMeanLoss()));
    double frac = s.steps() <= 0 ? 0 : Math.min(1, (double) s.step() / s.steps());
    String pct = String.format(Locale.ROOT, "%3d%% ", (int) Math.floor(100 * frac));
    int room = width - left.length() - right.length() - pct.length() - 3;
    StringBuilder sb = new StringBuilder(left);
    if (room >= 5) {
      int fill = (int) Math.round(frac * room);
      sb.append('[').append("=".repeat(fill)).append(" ".repeat(room - fill)).append("] ");
    }
    if (sb.length() + pct.length() + right.length() <= width) {
      sb.append(pct);
    }
    sb.append(right);
    return sb.length() <= width ? sb.toString() : sb.substring(0, width);
  }

  /** 3 significant digits with k/M: 950, 12.3k, 1.20M. */
  static String si(double v) {
    if (v < 999.5) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    if (v < 999_500) {
      return String.format(Locale.ROOT, v < 9_995 ? "%.2fk" : v < 99_950 ? "%.1fk" : "%.0fk", v / 1e3);
    }
    return String.format(Locale.ROOT, v < 9.995e6 ? "%.2fM" : v < 9.995e7 ? "%.1fM" : "%.0fM", v / 1e6);
  }

  /** m:ss, or h:mm:ss from an hour, or --:-- when not known; capped at 999 hours. */
  static String duration(double seconds) {
    if (!Double.isFinite(seconds) || seconds < 0) {
      return "--:--";
    }
    long t = Math.min(Math.round(seconds), 999L * 3600 + 3599);
    return t >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60)
        : String.format(Locale.ROOT, "%d:%02d", t / 60, t % 60);
  }

  @Override
  public void onEpoch(EpochRecord r) {
    if (pb != null) {
      pb.close();
      pb = null;
    }
    if (epochLines) {
      out.println(line(r));
      out.flush();
    }
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
