package io.github.pathsgd.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReadersTest {
  @TempDir Path tmp;

  private static void checkPixels(Dataset d, int firstImage) {
    int dim = d.dim();
    for (int i = 0; i < d.n(); i++) {
      for (int k = 0; k < dim; k += 97) {
        assertThat(d.x()[i * dim + k]).isEqualTo(TestFiles.pixel(firstImage + i, k) / 255f);
      }
    }
  }

  @Test
  void idxRawAndGzipGiveSameData() throws Exception {
    TestFiles.writeMnist(tmp.resolve("raw"), 23, 7, false);
    TestFiles.writeMnist(tmp.resolve("gz"), 23, 7, true);
    Dataset a = IdxReader.read(tmp.resolve("raw/train-images-idx3-ubyte"), tmp.resolve("raw/train-labels-idx1-ubyte"),
        "a", 10);
    Dataset b = IdxReader.read(tmp.resolve("gz/train-images-idx3-ubyte.gz"),
        tmp.resolve("gz/train-labels-idx1-ubyte.gz"), "b", 10);
    assertThat(a.n()).isEqualTo(23);
    assertThat(a.channels()).isEqualTo(1);
    assertThat(a.height()).isEqualTo(28);
    assertThat(a.x()).isEqualTo(b.x());
    assertThat(a.y()).isEqualTo(b.y());
    assertThat(a.y()[13]).isEqualTo(3);
    checkPixels(a, 0);
  }

  @Test
  void gzipDetectedByMagicNotName() throws Exception {
    Path img = tmp.resolve("images.bin");
    Path lab = tmp.resolve("labels.bin");
    Files.write(img, TestFiles.gzip(TestFiles.idxImages(3, 28, 28)));
    Files.write(lab, TestFiles.idxLabels(3, 10));
    assertThat(IdxReader.read(img, lab, "m", 10).n()).isEqualTo(3);
  }

  @Test
  void cifar10BothLayouts() throws Exception {
    Path off = Files.createDirectories(tmp.resolve("cifar-10-batches-bin"));
    for (int b = 1; b <= 5; b++) {
      Files.write(off.resolve("data_batch_" + b + ".bin"), TestFiles.cifar(4, false, (b - 1) * 4));
    }
    Files.write(off.resolve("test_batch.bin"), TestFiles.cifar(3, false, 100));
    DataSplits s = Datasets.load(DataRequest.of("cifar10", tmp));
    assertThat(s.train().n()).isEqualTo(20);
    assertThat(s.test().n()).isEqualTo(3);
    assertThat(s.train().y()[17]).isEqualTo(7);
    checkPixels(s.train(), 0);
    checkPixels(s.test(), 100);

    Path gz = Files.createDirectories(tmp.resolve("gz/cifar10"));
    Files.write(gz.resolve("train.bin.gz"), TestFiles.gzip(TestFiles.cifar(20, false, 0)));
    Files.write(gz.resolve("test.bin.gz"), TestFiles.gzip(TestFiles.cifar(3, false, 100)));
    DataSplits t = Datasets.load(DataRequest.of("cifar10", tmp.resolve("gz")));
    assertThat(t.train().x()).isEqualTo(s.train().x());
    assertThat(t.test().y()).isEqualTo(s.test().y());
  }

  @Test
  void cifar100FineAndCoarse() throws Exception {
    Path d = Files.createDirectories(tmp.resolve("cifar-100-binary"));
    Files.write(d.resolve("train.bin"), TestFiles.cifar(130, true, 0));
    Files.write(d.resolve("test.bin"), TestFiles.cifar(5, true, 0));
    DataSplits fine = Datasets.load(DataRequest.of("cifar100", tmp));
    assertThat(fine.train().numClasses()).isEqualTo(100);
    assertThat(fine.train().y()[123]).isEqualTo(23);
    checkPixels(fine.train(), 0);
    DataSplits coarse = Datasets.load(DataRequest.of("cifar100-coarse", tmp));
    assertThat(coarse.train().numClasses()).isEqualTo(20);
    assertThat(coarse.train().y()[123]).isEqualTo(3);
    Dataset direct = CifarReader.readCifar100(List.of(d.resolve("train.bin")), "c", true);
    assertThat(direct.y()).isEqualTo(coarse.train().y());
  }

  @Test
  void svhnMatFile() throws Exception {
    Path d = Files.createDirectories(tmp.resolve("svhn"));
    TestFiles.writeSvhn(d.resolve("train_32x32.mat"), 12);
    TestFiles.writeSvhn(d.resolve("test_32x32.mat"), 3);
    TestFiles.writeSvhn(d.resolve("extra_32x32.mat"), 2);
    DataSplits s = Datasets.load(DataRequest.of("svhn", tmp));
    assertThat(s.train().n()).isEqualTo(12);
    assertThat(s.train().channels()).isEqualTo(3);
    // y = i % 10 + 1, with 10 meaning digit 0
    assertThat(s.train().y()).startsWith(1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1);
    int dim = 3072;
    for (int i = 0; i < 12; i++) {
      for (int k = 0; k < dim; k += 31) {
        assertThat(s.train().x()[i * dim + k]).isCloseTo(TestFiles.pixel(i, k) / 255f, within(0f));
      }
    }
    assertThat(Datasets.load(DataRequest.of("svhn-extra", tmp)).train().n()).isEqualTo(14);
  }

  @Test
  void fashionMnistFromAnyFolder() throws Exception {
    TestFiles.writeMnist(tmp.resolve("fashion-mnist"), 10, 5, true);
    DataSplits s = Datasets.load(DataRequest.of("fashion-mnist", tmp));
    assertThat(s.train().n()).isEqualTo(10);
    assertThat(s.provenance().get("files")).contains("fashion-mnist");
  }
}
