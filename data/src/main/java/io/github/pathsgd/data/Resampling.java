package io.github.pathsgd.data;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The building blocks of {@link Preprocessing}, usable on their own. All return new data sets; inputs are not
 * modified.
 */
public final class Resampling {
  private Resampling() {}

  /**
   * A seeded permutation of {@code 0..n-1}: Fisher-Yates with {@code java.util.SplittableRandom(seed)}, drawing
   * {@code nextInt(i + 1)} for {@code i = n-1 .. 1}.
   */
  public static int[] permutation(int n, long seed) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = n - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /**
   * Splits off a validation set: the last {@code validationSize} indices of {@link #permutation(int, long)
   * permutation(n, seed)} form validation, the others stay in training. Both parts are returned in original file
   * order (index order).
   *
   * @return {train, validation}; validation is {@code null} when {@code validationSize == 0}
   * @throws DataException if {@code validationSize >= train.n()}
   */
  public static Dataset[] validationSplit(Dataset train, int validationSize, long seed) {
    if (validationSize == 0) {
      return new Dataset[] {train, null};
    }
    if (validationSize < 0 || validationSize >= train.n()) {
      throw new DataException(train.name() + ": validation size " + validationSize + " must be in 0.."
          + (train.n() - 1) + " (the training set has " + train.n() + " images)");
    }
    int[] p = permutation(train.n(), seed);
    int keep = train.n() - validationSize;
    int[] tr = Arrays.copyOfRange(p, 0, keep);
    int[] va = Arrays.copyOfRange(p, keep, p.length);
    Arrays.sort(tr);
    Arrays.sort(va);
    String base = baseName(train.name());
    return new Dataset[] {train.subset(base + "/train", tr), train.subset(base + "/validation", va)};
  }

  /**
   * Class-balanced subset: walks {@link #permutation(int, long) permutation(n, seed ^ 0x5DEECE66DL)} and keeps the
   * first {@code perClass} images of each class; the kept images are returned in file order. A class with fewer
   * images keeps all of them.
   */
  public static Dataset perClass(Dataset d, int perClass, long seed) {
    int[] p = permutation(d.n(), seed ^ 0x5DEECE66DL);
    int[] count = new int[d.numClasses()];
    boolean[] keep = new boolean[d.n()];
    int k = 0;
    for (int i : p) {
      int c = d.y()[i];
      if (count[c] < perClass) {
        count[c]++;
        keep[i] = true;
        k++;
      }
    }
    int[] idx = new int[k];
    for (int i = 0, j = 0; i < d.n(); i++) {
      if (keep[i]) {
        idx[j++] = i;
      }
    }
    return d.subset(d.name(), idx);
  }

  /** ITU-R BT.601 luma {@code 0.299 R + 0.587 G + 0.114 B} for 3-channel sets; other sets are returned as is. */
  public static Dataset grayscale(Dataset d) {
    if (d.channels() != 3) {
      return d;
    }
    int hw = d.height() * d.width();
    float[] x = d.x();
    float[] out = new float[d.n() * hw];
    for (int i = 0; i < d.n(); i++) {
      int s = i * 3 * hw;
      int o = i * hw;
      for (int j = 0; j < hw; j++) {
        out[o + j] = 0.299f * x[s + j] + 0.587f * x[s + hw + j] + 0.114f * x[s + 2 * hw + j];
      }
    }
    return new Dataset(d.name(), out, d.y().clone(), d.n(), 1, d.height(), d.width(), d.numClasses(),
        d.targets());
  }

  /**
   * Area-averaging weights from {@code in} to {@code out} samples: {@code w[o][i]} is the length of the overlap of
   * output cell {@code o} (input interval {@code [o*in/out, (o+1)*in/out)}) with input pixel {@code i}, divided by
   * the cell length {@code in/out}. Each row sums to 1.
   */
  public static double[][] areaWeights(int in, int out) {
    double[][] w = new double[out][in];
    double scale = (double) in / out;
    for (int o = 0; o < out; o++) {
      double a = o * scale;
      double b = (o + 1) * scale;
      for (int i = (int) Math.floor(a); i < Math.min(in, (int) Math.ceil(b)); i++) {
        double ov = Math.min(b, i + 1) - Math.max(a, i);
        if (ov > 0) {
          w[o][i] = ov / scale;
        }
      }
    }
    return w;
  }

  /** Resizes every channel to {@code side x side} by area averaging (see {@link #areaWeights}). */
  public static Dataset downsample(Dataset d, int side) {
    if (side <= 0) {
      throw new IllegalArgumentException("side must be positive, got " + side);
    }
    if (side == d.height() && side == d.width()) {
      return d;
    }
    int h = d.height();
    int w = d.width();
    double[][] wr = areaWeights(h, side);
    double[][] wc = areaWeights(w, side);
    int c = d.channels();
    float[] x = d.x();
    float[] out = new float[d.n() * c * side * side];
    double[] tmp = new double[side * w]; // rows reduced
    for (int img = 0; img < d.n(); img++) {
      for (int ch = 0; ch < c; ch++) {
        int s = (img * c + ch) * h * w;
        Arrays.fill(tmp, 0);
        for (int o = 0; o < side; o++) {
          double[] wo = wr[o];
          for (int i = 0; i < h; i++) {
            double f = wo[i];
            if (f != 0) {
              int row = s + i * w;
              for (int j = 0; j < w; j++) {
                tmp[o * w + j] += f * x[row + j];
              }
            }
          }
        }
        int t = (img * c + ch) * side * side;
        for (int o = 0; o < side; o++) {
          for (int q = 0; q < side; q++) {
            double[] wq = wc[q];
            double acc = 0;
            for (int j = 0; j < w; j++) {
              acc += wq[j] * tmp[o * w + j];
            }
            out[t + o * side + q] = (float) acc;
          }
        }
      }
    }
    return new Dataset(d.name(), out, d.y().clone(), d.n(), c, side, side, d.numClasses(), d.targets());
  }

  /** Per-channel mean and population standard deviation: {@code {mean[c], std[c]}}. */
  public static double[][] channelStats(Dataset d) {
    int c = d.channels();
    int hw = d.height() * d.width();
    double[] mean = new double[c];
    double[] std = new double[c];
    float[] x = d.x();
    for (int ch = 0; ch < c; ch++) {
      double s = 0;
      double ss = 0;
      for (int i = 0; i < d.n(); i++) {
        int o = (i * c + ch) * hw;
        for (int j = 0; j < hw; j++) {
          double v = x[o + j];
          s += v;
          ss += v * v;
        }
      }
      double cnt = (double) d.n() * hw;
      mean[ch] = cnt == 0 ? 0 : s / cnt;
      std[ch] = cnt == 0 ? 0 : Math.sqrt(Math.max(0, ss / cnt - mean[ch] * mean[ch]));
    }
    return new double[][] {mean, std};
  }

  /** Applies {@code (x - mean[c]) / std[c]} per channel (only centring where {@code std[c] < 1e-8}). */
  public static Dataset standardize(Dataset d, double[] mean, double[] std) {
    int c = d.channels();
    int hw = d.height() * d.width();
    float[] x = d.x();
    float[] out = new float[x.length];
    for (int ch = 0; ch < c; ch++) {
      float m = (float) mean[ch];
      float inv = std[ch] < 1e-8 ? 1f : (float) (1.0 / std[ch]);
      for (int i = 0; i < d.n(); i++) {
        int o = (i * c + ch) * hw;
        for (int j = 0; j < hw; j++) {
          out[o + j] = (x[o + j] - m) * inv;
        }
      }
    }
    return new Dataset(d.name(), out, d.y().clone(), d.n(), c, d.height(), d.width(), d.numClasses(),
        d.targets());
  }

  static String baseName(String name) {
    int i = name.lastIndexOf('/');
    return i < 0 ? name : name.substring(0, i);
  }
}
