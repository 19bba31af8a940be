package io.github.pathsgd.data;

import java.util.Arrays;

/**
 * A labelled image set in memory, ready for a fully connected network: {@code n} rows of {@code dim()} float32
 * features, row-major in {@code x}, flattened in CHW order (channel, then row, then column), and labels in
 * {@code [0, numClasses)}.
 *
 * @param name a short name, e.g. {@code "mnist/train"}
 * @param x the features, length {@code n * channels * height * width}
 * @param y the labels, length {@code n}; a regression set's are all 0 (one class)
 * @param targets null for a labelled (classification) set; for a regression set (the adding problem) one real
 *     target per row, length {@code n}, with {@code numClasses} 1 and every label 0
 */
public record Dataset(String name, float[] x, int[] y, int n, int channels, int height, int width, int numClasses,
    float[] targets) {
  /** A labelled (classification) set: no real targets. */
  public Dataset(String name, float[] x, int[] y, int n, int channels, int height, int width, int numClasses) {
    this(name, x, y, n, channels, height, width, numClasses, null);
  }

  public Dataset {
    long dim = (long) channels * height * width;
    if (n < 0 || channels <= 0 || height <= 0 || width <= 0 || numClasses <= 0) {
      throw new IllegalArgumentException("dataset " + name + ": bad shape n=" + n + " c=" + channels + " h=" + height
          + " w=" + width + " classes=" + numClasses);
    }
    if (x.length != n * dim || y.length != n) {
      throw new IllegalArgumentException("dataset " + name + ": " + x.length + " features and " + y.length
          + " labels for " + n + " rows of " + dim);
    }
    if (targets != null && (targets.length != n || numClasses != 1)) {
      throw new IllegalArgumentException("dataset " + name + ": " + targets.length + " regression targets for " + n
          + " rows and " + numClasses + " classes; expected one target per row and 1 class");
    }
  }

  /** Whether the rows have real targets ({@link #targets()}) rather than class labels: a regression set. */
  public boolean regression() {
    return targets != null;
  }

  /**
   * The mean squared error of predicting the constant {@code c} for every row: Σ (t − c)² / n over the targets (NaN
   * for an empty set); a regression set only.
   */
  public double constantMse(double c) {
    if (targets == null) {
      throw new IllegalArgumentException("dataset " + name + ": has class labels, not regression targets");
    }
    double s = 0;
    for (float t : targets) {
      s += (t - c) * (t - c);
    }
    return s / n;
  }

  /** Features per row. */
  public int dim() {
    return channels * height * width;
  }

  /** The rows at {@code idx}, in that order, as a new dataset. */
  public Dataset subset(String newName, int[] idx) {
    int d = dim();
    float[] nx = new float[idx.length * d];
    int[] ny = new int[idx.length];
    float[] nt = targets == null ? null : new float[idx.length];
    for (int i = 0; i < idx.length; i++) {
      System.arraycopy(x, idx[i] * d, nx, i * d, d);
      ny[i] = y[idx[i]];
      if (nt != null) {
        nt[i] = targets[idx[i]];
      }
    }
    return new Dataset(newName, nx, ny, idx.length, channels, height, width, numClasses, nt);
  }

  /** Count of each label. */
  public int[] classHistogram() {
    int[] h = new int[numClasses];
    for (int v : y) {
      h[v]++;
    }
    return h;
  }

  @Override
  public String toString() {
    if (targets != null) {
      return name + " [" + n + " x " + channels + "x" + height + "x" + width + ", real targets]";
    }
    return name + " [" + n + " x " + channels + "x" + height + "x" + width + ", " + numClasses + " classes, histogram "
        + Arrays.toString(classHistogram()) + "]";
  }
}
