package io.github.pathsgd.train.listener;

import io.github.pathsgd.train.history.EpochRecord;
import java.util.List;
import java.util.Locale;

/**
 * Divergence: a step whose loss is NaN or infinite ends the run as diverged, and so does a loss that explodes without
 * becoming NaN: a mini-batch loss or an epoch's training loss above the bound {@code factor × max(L0, ln K)}, where
 * L0 is the training loss of the initial network (epoch 0) and ln K the loss of a uniform guess over the network's K
 * outputs (so that a near-perfect initial network does not make the bound tiny). A factor of 0 turns the bound off.
 * A non-finite loss of the initial network (epoch 0) is divergence too.
 */
public final class DivergenceCheck implements TrainingListener {
  private final double factor;
  private final int outputs;
  private double bound = Double.POSITIVE_INFINITY;
  private String rule = "";

  /**
   * @param factor the bound's factor, 0 = no bound (only NaN and infinity)
   * @param outputs K, the network's outputs
   */
  public DivergenceCheck(double factor, int outputs) {
    this.factor = factor;
    this.outputs = outputs;
  }

  /** The loss above which a run has diverged: factor × max(initial loss, ln K); +∞ when the factor is 0. */
  public double bound(double initialLoss) {
    if (factor == 0) {
      return Double.POSITIVE_INFINITY;
    }
    return factor * Math.max(initialLoss, Math.log(outputs));
  }

  private void initial(double loss) {
    bound = bound(loss);
    rule = String.format(Locale.ROOT, "the divergence bound %.6g (divergence_factor %s x max(initial training loss "
        + "%.6g, ln %d))", bound, factor, loss, outputs);
  }

  @Override
  public void onResume(List<EpochRecord> earlier) {
    initial(earlier.get(0).trainLoss());
  }

  @Override
  public Stop afterStep(int epoch, int step, int stepsPerEpoch, double loss) {
    if (!Double.isFinite(loss) || loss > bound) {
      return Stop.diverged("training loss became " + loss + " at epoch " + epoch + ", step " + step + " of "
          + stepsPerEpoch + (Double.isFinite(loss) ? ", above " + rule : ""));
    }
    return null;
  }

  @Override
  public Stop afterEpoch(EpochRecord r) {
    if (r.epoch() == 0) {
      if (!Double.isFinite(r.trainLoss())) {
        return Stop.diverged("non-finite loss at initialization");
      }
      initial(r.trainLoss());
      return null;
    }
    if (!Double.isFinite(r.trainLoss()) || r.trainLoss() > bound) {
      return Stop.diverged("training loss became " + r.trainLoss() + " after epoch " + r.epoch()
          + (Double.isFinite(r.trainLoss()) ? ", above " + rule : ""));
    }
    return null;
  }
}
