package io.github.pathsgd.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DownloadAndInfoTest {
  @TempDir Path tmp;

  @Test
  void failedDownloadSaysSoAndNamesFolder() {
    var r = new Downloader.Remote("train_32x32.mat", URI.create("http://127.0.0.1:9/none.mat"), null, false, null);
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    assertThatThrownBy(() -> Downloader.fetch(r, tmp.resolve("svhn"), quiet)).isInstanceOf(DataException.class)
        .hasMessageContaining("download of http://127.0.0.1:9/none.mat failed")
        .hasMessageContaining(tmp.resolve("svhn").toString()).hasMessageContaining("by hand");
  }

  @Test
  void everyNameHasOfficialFiles() {
    for (String n : Datasets.names()) {
      if (!n.equals("mnist-sample")) {
        assertThat(Downloader.files(n)).isNotEmpty();
      }
    }
    assertThat(Downloader.files("cifar10").get(0).url().toString()).endsWith("cifar-10-binary.tar.gz");
  }

  @Test
  void untarsCifarLayoutFromUstar() throws Exception {
    ByteArrayOutputStream tar = new ByteArrayOutputStream();
    byte[] batch = TestFiles.cifar(2, false, 0);
    tarEntry(tar, "cifar-10-batches-bin/", new byte[0], '5');
    for (int i = 1; i <= 5; i++) {
      tarEntry(tar, "cifar-10-batches-bin/data_batch_" + i + ".bin", batch, '0');
    }
    tarEntry(tar, "cifar-10-batches-bin/test_batch.bin", batch, '0');
    tarEntry(tar, "../evil.bin", batch, '0');
    tar.write(new byte[1024]);
    Path tgz = tmp.resolve("cifar10/cifar-10-binary.tar.gz");
    Files.createDirectories(tgz.getParent());
    Files.write(tgz, TestFiles.gzip(tar.toByteArray()));
    Downloader.untarBins(tgz, tmp.resolve("cifar10/cifar-10-batches-bin"));
    assertThat(tmp.resolve("evil.bin")).doesNotExist();
    DataSplits s = Datasets.load(DataRequest.of("cifar10", tmp));
    assertThat(s.train().n()).isEqualTo(10);
    DatasetInfo info = DatasetInfo.of("cifar10", tmp);
    assertThat(info.trainCount()).isEqualTo(10);
    assertThat(info.testHistogram()).containsExactly(1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    assertThat(info.sha256()).hasSize(6);
    assertThat(info.toText()).contains("data_batch_3.bin");
  }

  @Test
  void infoOfBundledSample() {
    DatasetInfo info = DatasetInfo.of("mnist-sample", null);
    assertThat(info.trainCount()).isEqualTo(8000);
    assertThat(info.sha256()).containsValue("c4feaf49cd959358692a4c6042141b4c8661c3d51edb54a9be34e2395bdd232f");
  }

  private static void tarEntry(ByteArrayOutputStream out, String name, byte[] data, char type) throws Exception {
    byte[] h = new byte[512];
    byte[] n = name.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(n, 0, h, 0, n.length);
    byte[] size = String.format("%011o\0", data.length).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(size, 0, h, 124, 12);
    h[156] = (byte) type;
    byte[] magic = "ustar\00000".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(magic, 0, h, 257, magic.length);
    out.write(h);
    out.write(data);
    out.write(new byte[(512 - data.length % 512) % 512]);
  }
}
