package io.github.pathsgd.data;

/**
 * A set of {@code n} sequences of {@code steps} time steps with {@code features} floats each, in memory for a
 * recurrent network: sequence i's step t is {@code x[(i·steps + t)·features ...]} (row-major (n, T, F), what
 * {@code core.rnn.RnnCell} reads). Exactly one kind of target: class {@code labels} in {@code [0, numClasses)}
 * (sequential MNIST), or {@code targetDim} real {@code targets} per sequence (the adding problem).
 *
 * @param name a short name, e.g. {@code "adding/T=100/train"}
 */
public record SequenceDataset(String name, float[] x, int n, int steps, int features, int[] labels, int numClasses,
    float[] targets, int targetDim) {
  public SequenceDataset {
    if (n < 0 || steps < 1 || features < 1) {
      throw new IllegalArgumentException(name + ": n must be >= 0 and steps, features positive, got n=" + n
          + " steps=" + steps + " features=" + features);
    }
    if (x.length != (long) n * steps * features) {
      throw new IllegalArgumentException(name + ": x has " + x.length + " floats, expected n·steps·features = "
          + (long) n * steps * features);
    }
    if ((labels == null) == (targets == null)) {
      throw new IllegalArgumentException(name + ": exactly one of labels and targets must be given");
    }
    if (labels != null && (labels.length != n || numClasses < 1)) {
      throw new IllegalArgumentException(name + ": " + labels.length + " labels for " + n + " sequences, "
          + numClasses + " classes");
    }
    if (targets != null && (targetDim < 1 || targets.length != (long) n * targetDim)) {
      throw new IllegalArgumentException(name + ": " + targets.length + " targets for " + n + " sequences of "
          + targetDim);
    }
  }

  /** Floats per sequence. */
  public int dim() {
    return steps * features;
  }

  /** Whether the targets are class labels. */
  public boolean classification() {
    return labels != null;
  }
}
