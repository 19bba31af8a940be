package io.github.pathsgd.data;

/**
 * Sequential MNIST (Le, Jaitly and Hinton 2015, arXiv:1504.00941): each image read one pixel per time step, in
 * row-major order (step t is pixel (t / side, t % side)), one feature per step, T = side²; the label is the image's.
 * The permuted variant applies one fixed permutation of the pixel order, drawn from a seed by {@link
 * Resampling#permutation} (step t is pixel perm[t] of every image). A shorter variant for quick runs first
 * downsamples 28x28 to 14x14 by area averaging ({@link Resampling#downsample}, each output pixel the mean of a 2x2
 * block), T = 196 (a choice of this project, not of the papers; docs/rnn.md).
 *
 * <p>Pixels stay as the readers give them, in [0, 1]; standardization, if wanted, is the caller's.
 */
public final class SequentialMnist {
  private SequentialMnist() {}

  /** Pixel-by-pixel sequences of a one-channel image set, optionally downsampled to {@code side} first. */
  public static SequenceDataset of(Dataset images, int side) {
    return build(images, side, null, "seq");
  }

  /** The permuted variant: one permutation of the T = side² steps from {@code permutationSeed}. */
  public static SequenceDataset permuted(Dataset images, int side, long permutationSeed) {
    return build(images, side, Resampling.permutation(side * side, permutationSeed),
        "pseq(" + permutationSeed + ")");
  }

  private static Dataset resized(Dataset images, int side) {
    if (side < 1 || side > Math.min(images.height(), images.width())) {
      throw new IllegalArgumentException(images.name() + ": side " + side + " outside [1, "
          + Math.min(images.height(), images.width()) + "] (sequential MNIST only downsamples)");
    }
    if (images.channels() != 1) {
      throw new IllegalArgumentException(images.name() + ": sequential MNIST needs one channel, got "
          + images.channels());
    }
    return side == images.height() && side == images.width() ? images : Resampling.downsample(images, side);
  }

  private static SequenceDataset build(Dataset images, int side, int[] perm, String kind) {
    Dataset d = resized(images, side);
    int steps = d.height() * d.width();
    float[] x;
    if (perm == null) {
      x = d.x().clone();
    } else {
      x = new float[d.x().length];
      float[] src = d.x();
      for (int i = 0; i < d.n(); i++) {
        int b = i * steps;
        for (int t = 0; t < steps; t++) {
          x[b + t] = src[b + perm[t]];
        }
      }
    }
    return new SequenceDataset(images.name() + "/" + kind + "/T=" + steps, x, d.n(), steps, 1, d.y().clone(),
        d.numClasses(), null, 0);
  }
}
