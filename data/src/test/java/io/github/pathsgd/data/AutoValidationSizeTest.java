package io.github.pathsgd.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The automatic validation size, as documented: 10,000 for training sets of 40,000 images or more, else an eighth
 * (so the default {@code train} works on small copies such as the 4,000-image CIFAR-10 one).
 */
class AutoValidationSizeTest {
  @Test
  void tenThousandFromFortyThousandOnElseAnEighth() {
    assertThat(Datasets.autoValidationSize(8_000)).isEqualTo(1_000);
    assertThat(Datasets.autoValidationSize(4_000)).isEqualTo(500);
    assertThat(Datasets.autoValidationSize(39_999)).isEqualTo(4_999);
    assertThat(Datasets.autoValidationSize(40_000)).isEqualTo(10_000);
    assertThat(Datasets.autoValidationSize(60_000)).isEqualTo(10_000);
    assertThat(Datasets.autoValidationSize(7)).isZero();
    for (int n = 1; n < 100_000; n += 37) {
      assertThat(Datasets.autoValidationSize(n)).isLessThan(n);
    }
  }

  @Test
  void autoOnASmallCifarFolderHoldsOutAnEighth(@TempDir Path tmp) throws Exception {
    Path d = Files.createDirectories(tmp.resolve("cifar10"));
    Files.write(d.resolve("train.bin"), TestFiles.cifar(400, false, 0));
    Files.write(d.resolve("test.bin"), TestFiles.cifar(30, false, 100));
    DataSplits s = Datasets.load(new DataRequest("cifar10", tmp, DataRequest.AUTO, 1L, Preprocessing.NONE));
    assertThat(s.validation().n()).isEqualTo(50);
    assertThat(s.train().n()).isEqualTo(350);
    assertThat(s.provenance().get("split")).startsWith("validation = last 50 of SplittableRandom(1)");
    // the same split as asking for 50 explicitly
    DataSplits e = Datasets.load(new DataRequest("cifar10", tmp, 50, 1L, Preprocessing.NONE));
    assertThat(s.validation().y()).isEqualTo(e.validation().y());
    assertThat(s.train().x()).isEqualTo(e.train().x());
  }

  @Test
  void autoOnTheSharedFourThousandImageCifarCopy() {
    Path d = RealDataTest.folder("cifar10-png");
    DataSplits s = Datasets.load(new DataRequest("cifar10", d, DataRequest.AUTO, 1L, Preprocessing.NONE));
    assertThat(s.validation().n()).isEqualTo(500);
    assertThat(s.train().n()).isEqualTo(3_500);
    assertThat(s.test().n()).isEqualTo(1_000);
  }

  @Test
  void autoOnTheBundledSampleIsTheThousandItAlwaysWas() {
    DataSplits s = Datasets.load(new DataRequest("mnist-sample", null, DataRequest.AUTO, 1L, Preprocessing.NONE));
    assertThat(s.validation().n()).isEqualTo(1_000);
    assertThat(s.train().n()).isEqualTo(7_000);
  }

  @Test
  void belowAutoIsRejected() {
    assertThatThrownBy(() -> new DataRequest("mnist", null, -2, 1L, null))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("validationSize must be >= 0, or AUTO (-1), got -2");
  }
}
