package io.github.pathsgd.data;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The sequential MNIST names of the registry: shape 1 x T x 1, each step a pixel (or 2x2 mean) of the image. */
class SequentialRegistryTest {
  @Test
  void seqmnistSample14IsTheDownsampledImagesPixelByPixel() {
    DataSplits seq = Datasets.load(DataRequest.of("seqmnist-sample-14", null));
    DataSplits img = Datasets.load(DataRequest.of("mnist-sample", null));
    for (Dataset[] pair : new Dataset[][] {{seq.train(), img.train()}, {seq.test(), img.test()}}) {
      Dataset s = pair[0];
      Dataset m = pair[1];
      assertThat(new int[] {s.channels(), s.height(), s.width(), s.numClasses(), s.n()})
          .containsExactly(1, 196, 1, 10, m.n());
      assertThat(java.util.Arrays.equals(s.y(), m.y())).as("labels").isTrue();
      for (int i = 0; i < m.n(); i += 397) {
        for (int t = 0; t < 196; t++) {
          int r = 2 * (t / 14);
          int c = 2 * (t % 14);
          int b = i * 784;
          double mean = (m.x()[b + r * 28 + c] + m.x()[b + r * 28 + c + 1] + m.x()[b + (r + 1) * 28 + c]
              + m.x()[b + (r + 1) * 28 + c + 1]) / 4.0;
          assertThat((double) s.x()[i * 196 + t]).as("image " + i + " step " + t).isCloseTo(mean,
              org.assertj.core.api.Assertions.within(1e-6));
        }
      }
    }
    assertThat(seq.provenance().get("dataset")).isEqualTo("seqmnist-sample-14");
  }

  @Test
  void seqmnistSampleKeepsEveryPixel() {
    DataSplits seq = Datasets.load(DataRequest.of("seqmnist-sample", null));
    DataSplits img = Datasets.load(DataRequest.of("mnist-sample", null));
    assertThat(seq.test().height()).isEqualTo(784);
    assertThat(java.util.Arrays.equals(seq.test().x(), img.test().x())).as("every pixel, in order").isTrue();
  }

  /**
   * The sequence names are the MNIST files read as sequences: the registry's other lookups (search folders, checksums,
   * download) resolve them to those files instead of refusing them as unknown.
   */
  @Test
  void sequenceNamesResolveToTheirMnistFiles() {
    assertThat(Datasets.canonical("seqmnist")).isEqualTo("mnist");
    assertThat(Datasets.canonical("SeqMNIST-14")).isEqualTo("mnist");
    assertThat(Datasets.canonical("seqmnist-sample")).isEqualTo("mnist-sample");
    assertThat(Datasets.canonical("seqmnist-sample-14")).isEqualTo("mnist-sample");
    assertThat(Datasets.searchDirs("seqmnist", null)).isEqualTo(Datasets.searchDirs("mnist", null));
  }
}
