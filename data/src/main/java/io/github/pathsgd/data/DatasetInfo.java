package io.github.pathsgd.data;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Counts, class histograms and file checksums of one data set, for {@code pathsgd data info NAME}.
 *
 * @param dataset the name
 * @param trainCount images in the training files
 * @param testCount images in the test files
 * @param trainHistogram count per class, training files
 * @param testHistogram count per class, test files
 * @param sha256 file (path or classpath name) to SHA-256 of the stored bytes
 */
public record DatasetInfo(String dataset, int trainCount, int testCount, int[] trainHistogram, int[] testHistogram,
    Map<String, String> sha256) {

  /** Reads the data set (no split, no preprocessing) and summarizes it. */
  public static DatasetInfo of(String dataset, Path dataDir) {
    Datasets.Raw raw = Datasets.readRaw(dataset, dataDir);
    return new DatasetInfo(dataset, raw.train().n(), raw.test().n(), raw.train().classHistogram(),
        raw.test().classHistogram(), Map.copyOf(raw.files()));
  }

  /** A human-readable multi-line summary. */
  public String toText() {
    StringBuilder sb = new StringBuilder();
    sb.append("dataset ").append(dataset).append('\n');
    sb.append("train ").append(trainCount).append("  per class ").append(Arrays.toString(trainHistogram)).append('\n');
    sb.append("test  ").append(testCount).append("  per class ").append(Arrays.toString(testHistogram)).append('\n');
    sha256.entrySet().stream().sorted(Map.Entry.comparingByKey())
        .forEach(e -> sb.append("sha256 ").append(e.getValue()).append("  ").append(e.getKey()).append('\n'));
    return sb.toString();
  }
}
