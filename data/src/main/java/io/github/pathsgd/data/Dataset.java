package io.github.pathsgd.data;

import java.util.Arrays;

/**
 * A labelled image set in memory, ready for a fully connected network: {@code n} rows of {@code dim()} float32
 * features, row-major in {@code x}, flattened in CHW order (channel, then row, then column), and labels in
 * {@code [0, numClasses)}.
 *
 * @param name a short name, e.g. {@code "mnist/train"}
 * @param x the features, length {@code n * channels * height * width}
 * @param y the labels, length {@code n}
 */
public record Dataset(String name, float[] x, int[] y, int n, int channels, int height, int width, int numClasses) {
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
    for (int i = 0; i < idx.length; i++) {
      System.arraycopy(x, idx[i] * d, nx, i * d, d);
      ny[i] = y[idx[i]];
    }
    return new Dataset(newName, nx, ny, idx.length, channels, height, width, numClasses);
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
    return name + " [" + n + " x " + channels + "x" + height + "x" + width + ", " + numClasses + " classes, histogram "
        + Arrays.toString(classHistogram()) + "]";
  }
}
