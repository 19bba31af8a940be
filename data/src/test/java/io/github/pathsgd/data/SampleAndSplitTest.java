package io.github.pathsgd.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleAndSplitTest {
  @TempDir Path tmp;

  @Test
  void mnistSampleLoadsFromClasspath() {
    DataSplits s = Datasets.load(DataRequest.of("mnist-sample", null));
    assertThat(s.train().n()).isEqualTo(8000);
    assertThat(s.test().n()).isEqualTo(2000);
    assertThat(s.validation()).isNull();
    assertThat(s.train().classHistogram()).containsExactly(801, 902, 793, 826, 784, 690, 811, 856, 755, 782);
    assertThat(s.test().classHistogram()).containsExactly(200, 225, 198, 206, 196, 173, 203, 214, 189, 196);
    assertThat(s.provenance()).containsEntry(
        "sha256 classpath:io/github/pathsgd/data/mnist-sample/train-images-idx3-ubyte.gz",
        "b19a4d8a909c90262088bad6ed91e6cf9146cde83fc935dd96dfd9a0550ab5b2");
    float max = 0;
    for (float v : s.train().x()) {
      max = Math.max(max, v);
    }
    assertThat(max).isEqualTo(1f);
  }

  @Test
  void validationSplitIsSeededDisjointAndComplete() {
    DataSplits a = Datasets.load(new DataRequest("mnist-sample", null, 1000, 42L, Preprocessing.NONE));
    DataSplits b = Datasets.load(new DataRequest("mnist-sample", null, 1000, 42L, Preprocessing.NONE));
    DataSplits c = Datasets.load(new DataRequest("mnist-sample", null, 1000, 43L, Preprocessing.NONE));
    assertThat(a.train().n()).isEqualTo(7000);
    assertThat(a.validation().n()).isEqualTo(1000);
    assertThat(a.validation().x()).isEqualTo(b.validation().x());
    assertThat(a.validation().y()).isNotEqualTo(c.validation().y());
    int[] p = Resampling.permutation(8000, 42L);
    int[] val = Arrays.copyOfRange(p, 7000, 8000);
    Arrays.sort(val);
    DataSplits full = Datasets.load(DataRequest.of("mnist-sample", null));
    assertThat(a.validation().y()).isEqualTo(IntStream.of(val).map(i -> full.train().y()[i]).toArray());
    int[] h = a.train().classHistogram();
    int[] hv = a.validation().classHistogram();
    for (int k = 0; k < 10; k++) {
      assertThat(h[k] + hv[k]).isEqualTo(full.train().classHistogram()[k]);
    }
  }

  @Test
  void validationTooLargeIsDataException() {
    assertThatThrownBy(() -> Datasets.load(new DataRequest("mnist-sample", null, 8000, 1L, Preprocessing.NONE)))
        .isInstanceOf(DataException.class).hasMessageContaining("validation size 8000");
  }

  @Test
  void missingDatasetNamesFoldersAndFiles() {
    assertThatThrownBy(() -> Datasets.load(DataRequest.of("cifar10", tmp)))
        .isInstanceOf(DataException.class)
        .hasMessageContaining(tmp.toString())
        .hasMessageContaining(tmp.resolve("cifar10").toString())
        .hasMessageContaining("data_batch_1.bin")
        .hasMessageContaining("train.bin.gz");
    assertThatThrownBy(() -> Datasets.load(DataRequest.of("imagenet", tmp))).isInstanceOf(DataException.class)
        .hasMessageContaining("unknown data set");
  }

  @Test
  void namesAreTheSix() {
    assertThat(Datasets.names()).containsExactly("mnist", "mnist-sample", "fashion-mnist", "cifar10", "cifar100",
        "svhn");
  }
}
