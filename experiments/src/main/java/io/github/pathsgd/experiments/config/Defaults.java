package io.github.pathsgd.experiments.config;

import io.github.pathsgd.train.Trainer;
import java.util.List;
import java.util.Map;

/**
 * Every default of a run config, in one place: the library's (what {@link TrainConfig#resolve} fills in for a key
 * left out, so also what a preset's runs get for the keys its {@code base} does not set), and the few that {@code
 * pathsgd train} sets over them for the bundled sample ({@link #applyTrainCommand}). The command's {@code --help}
 * text is built from these constants, so it cannot drift from them.
 */
public final class Defaults {
  private Defaults() {}

  public static final String DATASET = "mnist-sample";
  /** Hidden-layer widths, as {@code --hidden} spells them. */
  public static final String HIDDEN_TEXT = "1000,1000";
  public static final List<Integer> HIDDEN = List.of(1000, 1000);
  public static final String OPTIMIZER = "sgd";
  public static final double LR = 0.05;
  public static final double LR_ADAGRAD = 0.01;
  public static final double MOMENTUM = 0.0;
  public static final boolean NESTEROV = false;
  public static final boolean PATH_RATIO = false;
  public static final boolean PATH_BIASES = true;
  public static final double P = 2.0;
  public static final int KAPPA_EVERY = 1;
  public static final double ADAGRAD_EPS = 1e-10;
  public static final String INIT = "balanced";
  /** A quarter of each hidden layer's units, as the authors' MATLAB demo. */
  public static final double UNBALANCE_FRACTION = 0.25;
  public static final String UNBALANCE_FACTOR = "10c";
  public static final double UNBALANCE_MU = 0.0;
  public static final double UNBALANCE_SIGMA = 1.0;
  public static final int BATCH_SIZE = 100;
  public static final int EPOCHS = 10;
  public static final double DROPOUT = 0.0;
  public static final double INPUT_DROPOUT = 0.0;
  public static final long SEED = 1;
  public static final int THREADS = 0;
  /** -1 = auto: 10,000 from 40,000 training images on, else an eighth (with per_class_train N: an eighth of 10·N). */
  public static final int VALIDATION_SIZE = -1;
  public static final double STOP_TRAIN_LOSS = 0.0;
  public static final boolean STOP_AT_ZERO_TRAIN_ERROR = false;
  public static final boolean STANDARDIZE = false;
  public static final boolean GRAYSCALE = false;
  public static final int DOWNSAMPLE = 0;
  public static final int PER_CLASS_TRAIN = 0;
  public static final String TRAIN_EVAL = "full";
  /** A training loss 1000 times the initial one ends a run as diverged. */
  public static final double DIVERGENCE_FACTOR = Trainer.Options.DEFAULT_DIVERGENCE_FACTOR;

  /** Record the norms of the network after every epoch (metrics.csv, split model). */
  public static final boolean RECORD_NORMS = true;

  /** {@code pathsgd train}: momentum for SGD (only when no optimizer, or sgd, is given). */
  public static final double TRAIN_COMMAND_SGD_MOMENTUM = 0.9;
  /** {@code pathsgd train}: dropout of hidden units. */
  public static final double TRAIN_COMMAND_DROPOUT = 0.5;
  /** {@code pathsgd train}: the epoch budget. */
  public static final int TRAIN_COMMAND_EPOCHS = 30;

  /**
   * Sets the defaults of {@code pathsgd train} in a snake_case config map (its config file overlaid with its flags)
   * where the key is still unset: momentum {@value #TRAIN_COMMAND_SGD_MOMENTUM} for SGD, dropout {@value
   * #TRAIN_COMMAND_DROPOUT}, {@value #TRAIN_COMMAND_EPOCHS} epochs.
   */
  public static void applyTrainCommand(Map<String, Object> m) {
    if (m.get("momentum") == null && (m.get("optimizer") == null || OPTIMIZER.equals(m.get("optimizer")))) {
      m.put("momentum", TRAIN_COMMAND_SGD_MOMENTUM);
    }
    if (m.get("dropout") == null) {
      m.put("dropout", TRAIN_COMMAND_DROPOUT);
    }
    if (m.get("epochs") == null) {
      m.put("epochs", TRAIN_COMMAND_EPOCHS);
    }
  }
}
