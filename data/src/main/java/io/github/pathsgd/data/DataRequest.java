package io.github.pathsgd.data;

import java.nio.file.Path;

/**
 * What to load: see {@link Datasets#load}.
 *
 * @param dataset one of {@link Datasets#names()} (or a variant from {@link Datasets#variants()})
 * @param dataDir the data folder, or {@code null} for {@code $PATHSGD_DATA}, else {@code ~/.pathsgd/data}
 * @param validationSize how many training images go to validation (0 = none; {@link #AUTO}: {@link
 *     Datasets#autoValidationSize} of the training set's size); must be below the training size
 * @param seed seed of the validation shuffle and of the per-class subset
 * @param preprocessing what to do after reading; {@link Preprocessing#NONE} for scaling only
 */
public record DataRequest(String dataset, Path dataDir, int validationSize, long seed, Preprocessing preprocessing) {
  /** The validation size that {@link Datasets#load} picks from the training set's size. */
  public static final int AUTO = -1;

  /** Checks the values; a {@code null} preprocessing means {@link Preprocessing#NONE}. */
  public DataRequest {
    if (dataset == null) {
      throw new IllegalArgumentException("dataset name is null");
    }
    if (validationSize < AUTO) {
      throw new IllegalArgumentException("validationSize must be >= 0, or AUTO (-1), got " + validationSize);
    }
    if (preprocessing == null) {
      preprocessing = Preprocessing.NONE;
    }
  }

  /** A request with no validation split, seed 0 and no preprocessing. */
  public static DataRequest of(String dataset, Path dataDir) {
    return new DataRequest(dataset, dataDir, 0, 0L, Preprocessing.NONE);
  }
}
