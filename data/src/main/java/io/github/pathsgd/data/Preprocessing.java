package io.github.pathsgd.data;

/**
 * What {@link Datasets#load} does to the raw images after reading them (the full rules are in {@code docs/data.md}).
 *
 * <p>Always: pixels are scaled to [0,1] ({@code (b & 0xFF) / 255f}) and flattened in CHW order. Then, in this order,
 * and only on request:
 * <ol>
 *   <li>the validation split is carved from the training set ({@link DataRequest#validationSize()});</li>
 *   <li>{@code perClassTrain > 0}: the training set (what remains after the validation split) is cut to the first
 *       {@code perClassTrain} images of each class in a seeded random order (seed {@link DataRequest#seed()}), kept
 *       in file order; {@link Datasets#load} refuses a {@code perClassTrain} above the image count of the
 *       smallest class of the training split (the subset would not be balanced);</li>
 *   <li>{@code grayscale}: 3-channel images become 1 channel by ITU-R BT.601 luma
 *       {@code 0.299 R + 0.587 G + 0.114 B} (no effect on 1-channel sets);</li>
 *   <li>{@code downsample > 0}: every channel is resized to {@code downsample x downsample} by area averaging: each
 *       output pixel is the mean of the input area it covers, with fractional weights at its borders when the ratio
 *       is not an integer (exact block means for 28 to 14 or 7, 32 to 16 or 8); a side larger than the images is
 *       refused;</li>
 *   <li>{@code standardize}: per channel, subtract the mean and divide by the standard deviation (population, over
 *       all pixels of that channel) computed on the final training split only, and apply the same numbers to
 *       validation and test. A channel with standard deviation below 1e-8 is only centred.</li>
 * </ol>
 *
 * @param standardize per-channel standardization with training-split statistics
 * @param downsample 0 = off, else the output side length (e.g. 10)
 * @param grayscale convert colour images to luma
 * @param perClassTrain 0 = all, else this many training images per class
 */
public record Preprocessing(boolean standardize, int downsample, boolean grayscale, int perClassTrain) {
  /** Scaling to [0,1] only. */
  public static final Preprocessing NONE = new Preprocessing(false, 0, false, 0);

  /** Checks the values. */
  public Preprocessing {
    if (downsample < 0) {
      throw new IllegalArgumentException("downsample must be 0 (off) or a positive side length, got " + downsample);
    }
    if (perClassTrain < 0) {
      throw new IllegalArgumentException("per_class_train must be 0 (all) or positive, got " + perClassTrain);
    }
  }

  /** A short text for provenance records, e.g. {@code "scale[0,1],grayscale,downsample=10,standardize"}. */
  public String describe() {
    StringBuilder sb = new StringBuilder("scale[0,1]");
    if (perClassTrain > 0) {
      sb.append(",perClassTrain=").append(perClassTrain);
    }
    if (grayscale) {
      sb.append(",grayscale(BT.601)");
    }
    if (downsample > 0) {
      sb.append(",downsample=").append(downsample).append("(area)");
    }
    if (standardize) {
      sb.append(",standardize(per-channel,train stats)");
    }
    sb.append(",flatten CHW");
    return sb.toString();
  }
}
