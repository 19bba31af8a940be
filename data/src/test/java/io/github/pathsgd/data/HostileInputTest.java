package io.github.pathsgd.data;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostileInputTest {
  @TempDir Path tmp;

  private Path file(String name, byte[] b) throws Exception {
    Path p = tmp.resolve(name);
    Files.write(p, b);
    return p;
  }

  private Path labels(int n) throws Exception {
    return file("labels-" + n, TestFiles.idxLabels(n, 10));
  }

  @Test
  void idxBadMagic() throws Exception {
    byte[] b = TestFiles.idxImages(2, 28, 28);
    b[3] = 0x01;
    Path img = file("img", b);
    assertThatThrownBy(() -> IdxReader.read(img, labels(2), "t", 10)).isInstanceOf(DataException.class)
        .hasMessageContaining(img.toString()).hasMessageContaining("magic at byte offset 0")
        .hasMessageContaining("0x00000803");
  }

  @Test
  void idxAbsurdCountIsRejectedWithoutAllocating() throws Exception {
    byte[] b = TestFiles.idxImages(2, 28, 28);
    ByteBuffer.wrap(b).putInt(4, Integer.MAX_VALUE);
    Path img = file("img.gz", TestFiles.gzip(b));
    assertThatThrownBy(() -> IdxReader.read(img, labels(2), "t", 10)).isInstanceOf(DataException.class)
        .hasMessageContaining("count " + Integer.MAX_VALUE + " at offset 4").hasMessageContaining("truncated");
    ByteBuffer.wrap(b).putInt(4, -5);
    Path img2 = file("img2", b);
    assertThatThrownBy(() -> IdxReader.read(img2, labels(2), "t", 10)).isInstanceOf(DataException.class)
        .hasMessageContaining("offset 4");
  }

  @Test
  void idxTruncatedAndTrailing() throws Exception {
    byte[] b = TestFiles.idxImages(3, 28, 28);
    Path cut = file("cut", Arrays.copyOf(b, b.length - 5));
    assertThatThrownBy(() -> IdxReader.read(cut, labels(3), "t", 10)).isInstanceOf(DataException.class)
        .hasMessageContaining("truncated");
    Path header = file("hdr", Arrays.copyOf(b, 10));
    assertThatThrownBy(() -> IdxReader.read(header, labels(3), "t", 10)).isInstanceOf(DataException.class)
        .hasMessageContaining("truncated IDX image header");
    Path longer = file("long", Arrays.copyOf(b, b.length + 1));
    assertThatThrownBy(() -> IdxReader.read(longer, labels(3), "t", 10)).isInstanceOf(DataException.class)
        .hasMessageContaining("trailing");
  }

  @Test
  void truncatedGzip() throws Exception {
    byte[] gz = TestFiles.gzip(TestFiles.idxImages(30, 28, 28));
    Path p = file("t.gz", Arrays.copyOf(gz, gz.length / 2));
    assertThatThrownBy(() -> IdxReader.read(p, labels(30), "t", 10)).isInstanceOf(DataException.class)
        .hasMessageContaining(p.toString()).hasMessageContaining("gzip");
  }

  @Test
  void gzNameOnNonGzipData() throws Exception {
    Path p = file("train-images-idx3-ubyte.gz", TestFiles.idxImages(2, 28, 28));
    assertThatThrownBy(() -> IdxReader.read(p, labels(2), "t", 10)).isInstanceOf(DataException.class)
        .hasMessageContaining(".gz").hasMessageContaining("not gzip").hasMessageContaining("1f 8b");
  }

  @Test
  void imageLabelCountMismatch() throws Exception {
    Path img = file("img", TestFiles.idxImages(3, 28, 28));
    Path lab = labels(4);
    assertThatThrownBy(() -> IdxReader.read(img, lab, "t", 10)).isInstanceOf(DataException.class)
        .hasMessageContaining("4 labels").hasMessageContaining("3 images");
  }

  @Test
  void labelOutOfRange() throws Exception {
    byte[] l = TestFiles.idxLabels(5, 10);
    l[8 + 3] = 10;
    Path lab = file("lab", l);
    Path img = file("img", TestFiles.idxImages(5, 28, 28));
    assertThatThrownBy(() -> IdxReader.read(img, lab, "t", 10)).isInstanceOf(DataException.class)
        .hasMessageContaining("byte offset 11").hasMessageContaining("expected 0..9");
    byte[] c = TestFiles.cifar(3, false, 0);
    c[3073] = (byte) 200;
    Path cf = file("c.bin", c);
    assertThatThrownBy(() -> CifarReader.readCifar10(List.of(cf), "c")).isInstanceOf(DataException.class)
        .hasMessageContaining("byte offset 3073").hasMessageContaining("record 1");
    byte[] h = TestFiles.cifar(3, true, 0);
    h[1] = 100;
    Path hf = file("h.bin", h);
    assertThatThrownBy(() -> CifarReader.readCifar100(List.of(hf), "c", false)).isInstanceOf(DataException.class)
        .hasMessageContaining("byte offset 1").hasMessageContaining("0..99");
  }

  @Test
  void cifarLengthNotMultipleOfRecord() throws Exception {
    byte[] c = TestFiles.cifar(3, false, 0);
    Path p = file("train.bin.gz", TestFiles.gzip(Arrays.copyOf(c, c.length - 1)));
    assertThatThrownBy(() -> CifarReader.readCifar10(List.of(p), "c")).isInstanceOf(DataException.class)
        .hasMessageContaining(p.toString()).hasMessageContaining("not a multiple of the 3073-byte record size")
        .hasMessageContaining("byte offset 6146");
    Path e = file("empty.bin", new byte[0]);
    assertThatThrownBy(() -> CifarReader.readCifar10(List.of(e), "c")).isInstanceOf(DataException.class)
        .hasMessageContaining("empty");
    // a CIFAR-10 file read as CIFAR-100
    Path ten = file("ten.bin", TestFiles.cifar(3, false, 0));
    assertThatThrownBy(() -> CifarReader.readCifar100(List.of(ten), "c", false)).isInstanceOf(DataException.class)
        .hasMessageContaining("3074-byte");
  }

  @Test
  void missingFile() {
    Path p = tmp.resolve("nope");
    assertThatThrownBy(() -> IdxReader.read(p, p, "t", 10)).isInstanceOf(DataException.class)
        .hasMessageContaining(p.toString()).hasMessageContaining("not found");
    assertThatThrownBy(() -> SvhnReader.read(List.of(p), "s")).isInstanceOf(DataException.class);
  }

  @Test
  void svhnBadFiles() throws Exception {
    Path good = tmp.resolve("good.mat");
    TestFiles.writeSvhn(good, 2);
    byte[] b = Files.readAllBytes(good);
    Path cut = file("cut.mat", Arrays.copyOf(b, b.length - 100));
    assertThatThrownBy(() -> SvhnReader.read(List.of(cut), "s")).isInstanceOf(DataException.class)
        .hasMessageContaining(cut.toString());
    Path junk = file("junk.mat", new byte[300]);
    assertThatThrownBy(() -> SvhnReader.read(List.of(junk), "s")).isInstanceOf(DataException.class)
        .hasMessageContaining(junk.toString());
    Path tiny = file("tiny.mat", new byte[5]);
    assertThatThrownBy(() -> SvhnReader.read(List.of(tiny), "s")).isInstanceOf(DataException.class)
        .hasMessageContaining("128-byte");
    // wrong variable shape: y with a label 11
    var x = us.hebi.matlab.mat.format.Mat5.newMatrix(new int[] {32, 32, 3, 1},
        us.hebi.matlab.mat.types.MatlabType.UInt8);
    var y = us.hebi.matlab.mat.format.Mat5.newMatrix(1, 1);
    y.setDouble(0, 11);
    Path bad = tmp.resolve("bad.mat");
    us.hebi.matlab.mat.format.Mat5.writeToFile(
        us.hebi.matlab.mat.format.Mat5.newMatFile().addArray("X", x).addArray("y", y), bad.toFile());
    assertThatThrownBy(() -> SvhnReader.read(List.of(bad), "s")).isInstanceOf(DataException.class)
        .hasMessageContaining("y(1) is 11.0");
    var x2 = us.hebi.matlab.mat.format.Mat5.newMatrix(new int[] {28, 28, 3, 1},
        us.hebi.matlab.mat.types.MatlabType.UInt8);
    Path bad2 = tmp.resolve("bad2.mat");
    us.hebi.matlab.mat.format.Mat5.writeToFile(
        us.hebi.matlab.mat.format.Mat5.newMatFile().addArray("X", x2).addArray("y", y), bad2.toFile());
    assertThatThrownBy(() -> SvhnReader.read(List.of(bad2), "s")).isInstanceOf(DataException.class)
        .hasMessageContaining("expected uint8 [32 32 3 N]");
  }

  @Test
  void checksumMismatchFromSha256Sums() throws Exception {
    Path d = tmp.resolve("m");
    TestFiles.writeMnist(d, 5, 3, true);
    String good = Checksums.sha256(d.resolve("train-labels-idx1-ubyte.gz"));
    Files.writeString(d.resolve("SHA256SUMS"), good + "  train-labels-idx1-ubyte.gz\n" + "0".repeat(64)
        + "  t10k-labels-idx1-ubyte.gz\n");
    assertThatThrownBy(() -> Datasets.load(DataRequest.of("mnist", d))).isInstanceOf(DataException.class)
        .hasMessageContaining("t10k-labels-idx1-ubyte.gz").hasMessageContaining("checksum mismatch");
    Files.writeString(d.resolve("SHA256SUMS"), good + "  train-labels-idx1-ubyte.gz\n");
    Datasets.load(DataRequest.of("mnist", d));
    assertThatThrownBy(() -> Checksums.verify(d.resolve("train-labels-idx1-ubyte.gz"), "0".repeat(32)))
        .isInstanceOf(DataException.class).hasMessageContaining("MD5 checksum mismatch");
  }
}
