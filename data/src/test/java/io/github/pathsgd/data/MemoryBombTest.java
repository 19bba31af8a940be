package io.github.pathsgd.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import us.hebi.matlab.mat.format.Mat5;
import us.hebi.matlab.mat.types.MatlabType;

/**
 * Issue 23 item 4 (memory bombs in the .npz, image folder and SVHN readers) and two of item 9's smaller cases (a
 * {@code .npy} of shape {@code ()}, Java exception names in SVHN errors). What a member, image or MAT-file variable
 * declares is checked before its data is inflated; the bombs are refused with the file and the sizes named. The
 * child-JVM cases run with {@code -Xmx256m}, so the budget (an eighth of the heap) is 32 MiB and no test allocates
 * more than a few tens of MB.
 */
class MemoryBombTest {
  @TempDir Path tmp;

  private static final String U8_2x2x2 = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 2), }";
  private static final String I4_2 = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }";

  private static byte[] npy(String dict, byte[] data) {
    return NumpyAndImageFolderTest.npy(dict, data);
  }

  private static byte[] ok(String dict) {
    return npy(dict, new byte[8]);
  }

  /** An .npz with the four arrays, x_train being {@code xtrain}, deflated. */
  private Path npz(String name, byte[] xtrain) throws IOException {
    return npz(name, xtrain, ok(U8_2x2x2));
  }

  /** An .npz with the four arrays, x_train and x_test given, deflated. */
  private Path npz(String name, byte[] xtrain, byte[] xtest) throws IOException {
    return npz(name, xtrain, npy(I4_2, NumpyAndImageFolderTest.int32s(0, 1)), xtest,
        npy(I4_2, NumpyAndImageFolderTest.int32s(1, 0)));
  }

  /** An .npz with the four arrays given, deflated. */
  private Path npz(String name, byte[] xtrain, byte[] ytrain, byte[] xtest, byte[] ytest) throws IOException {
    Path p = tmp.resolve(name);
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(p))) {
      z.setLevel(Deflater.BEST_COMPRESSION);
      String[][] members = {{"x_train.npy"}, {"y_train.npy"}, {"x_test.npy"}, {"y_test.npy"}};
      byte[][] data = {xtrain, ytrain, xtest, ytest};
      for (int i = 0; i < 4; i++) {
        z.putNextEntry(new ZipEntry(members[i][0]));
        z.write(data[i]);
        z.closeEntry();
      }
    }
    return p;
  }

  @Test
  void anNpzMemberThatInflatesBeyondItsHeaderIsRefusedBeforeItsDataIsRead() throws IOException {
    byte[] member = npy(U8_2x2x2, new byte[32 << 20]); // a header for 8 bytes, then 32 MiB of zeros
    int header = member.length - (32 << 20);
    Path bomb = npz("bomb.npz", member);
    assertThat(Files.size(bomb)).isLessThan(100_000);
    assertThatThrownBy(() -> NumpyDatasets.read(bomb, "b")).isInstanceOf(DataException.class)
        .hasMessage(bomb + "!x_train.npy (size in the zip directory): shape (2, 2, 2) of |u1 needs 8 data bytes, "
            + "the file has " + (32 << 20) + " (trailing bytes)");
    // the zip directory made to declare the honest size: the member is inflated one byte past its header's size
    byte[] z = Files.readAllBytes(bomb);
    patchCentralSize(z, "x_train.npy", header + 8);
    Path lying = Files.write(tmp.resolve("lying.npz"), z);
    assertThatThrownBy(() -> NumpyDatasets.read(lying, "b")).isInstanceOf(DataException.class)
        .hasMessage(lying + "!x_train.npy: shape (2, 2, 2) of |u1 needs 8 data bytes, the file has 9 (trailing bytes)");
  }

  /** Sets the uncompressed size of {@code name} in the zip's central directory. */
  private static void patchCentralSize(byte[] z, String name, int size) {
    ByteBuffer b = ByteBuffer.wrap(z).order(ByteOrder.LITTLE_ENDIAN);
    byte[] n = name.getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i + 46 < z.length; i++) {
      if (b.getInt(i) == 0x02014b50 && b.getShort(i + 28) == n.length
          && java.util.Arrays.equals(z, i + 46, i + 46 + n.length, n, 0, n.length)) {
        b.putInt(i + 24, size);
        return;
      }
    }
    throw new AssertionError("no central directory entry " + name);
  }

  @Test
  void anNpzWhoseHeadersDeclareMoreThanTheBudgetIsRefusedFromTheHeaders() throws IOException {
    String big = "{'descr': '|u1', 'fortran_order': False, 'shape': (100000, 100, 100), }";
    byte[] member = npy(big, new byte[8]); // declares 1 GB, holds 8 bytes
    byte[] z = Files.readAllBytes(npz("big0.npz", member));
    patchCentralSize(z, "x_train.npy", member.length - 8 + 1_000_000_000); // the zip directory agrees with it
    Path p = Files.write(tmp.resolve("big.npz"), z);
    assertThatThrownBy(() -> NumpyDatasets.read(p, "b", 64L << 20)).isInstanceOf(DataException.class)
        .hasMessageStartingWith(p + ": the arrays x_train (100000, 100, 100) of |u1, y_train (2,) of <i4, x_test "
            + "(2, 2, 2) of |u1, y_test (2,) of <i4 as their headers declare, read and converted, need 5000000")
        .hasMessageContaining("more than the 67108864 bytes a data set may take");
  }

  @Test
  void anNpyOfShapeScalarIsRefusedWithItsName() throws IOException {
    Path d = Files.createDirectories(tmp.resolve("scalar"));
    Files.write(d.resolve("x_train.npy"), npy("{'descr': '|u1', 'fortran_order': False, 'shape': (), }",
        new byte[1]));
    Files.write(d.resolve("y_train.npy"), npy(I4_2, NumpyAndImageFolderTest.int32s(0, 1)));
    Files.write(d.resolve("x_test.npy"), npy("{'descr': '|u1', 'fortran_order': False, 'shape': (), }",
        new byte[1]));
    Files.write(d.resolve("y_test.npy"), npy(I4_2, NumpyAndImageFolderTest.int32s(0, 1)));
    assertThatThrownBy(() -> NumpyDatasets.read(d, "s")).isInstanceOf(DataException.class)
        .hasMessage(d.resolve("x_train.npy") + ": images have shape []; expected N×D, N×H×W or N×H×W×C");
  }

  /** A PNG of {@code w x h} black RGB pixels (or, with {@code corrupt}, image data that is not zlib). */
  static byte[] blackPng(int w, int h, boolean corrupt) {
    byte[] raw = new byte[h * (1 + 3 * w)];
    Deflater d = new Deflater(Deflater.BEST_COMPRESSION);
    d.setInput(raw);
    d.finish();
    ByteArrayOutputStream z = new ByteArrayOutputStream();
    byte[] buf = new byte[1 << 16];
    while (!d.finished()) {
      z.write(buf, 0, d.deflate(buf));
    }
    d.end();
    byte[] idat = corrupt ? "not zlib data".getBytes(StandardCharsets.US_ASCII) : z.toByteArray();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10});
    TestPng.chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0)
        .put((byte) 0).put((byte) 0).array());
    TestPng.chunk(out, "IDAT", idat);
    TestPng.chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  @Test
  void imageFolderTotalsAreCheckedFromTheHeadersBeforeAnyImageIsDecoded() throws IOException {
    Path root = tmp.resolve("imgs");
    for (String f : new String[] {"train/a/1.png", "train/b/2.png", "test/a/3.png"}) {
      Files.createDirectories(root.resolve(f).getParent());
      Files.write(root.resolve(f), blackPng(4096, 4096, true)); // image data that would fail to decode
    }
    assertThatThrownBy(() -> ImageFolders.read(root, "i", 64L << 20)).isInstanceOf(DataException.class)
        .hasMessageStartingWith(root + ": 3 images (2 train, 1 test) of 3 x 4096 x 4096 values as floats need "
            + (3L * 3 * 4096 * 4096 * 4) + " bytes, more than the 67108864 bytes a data set may take");
    // within the budget, the same files are decoded and their data is refused
    assertThatThrownBy(() -> ImageFolders.read(root, "i", 1L << 30)).isInstanceOf(DataException.class)
        .hasMessageContaining("corrupt PNG image data");
  }

  @Test
  void svhnVariablesAreCheckedFromTheirHeadersAndErrorsNameNoJavaClass() throws IOException {
    Path p = tmp.resolve("train_32x32.mat");
    var x = Mat5.newMatrix(new int[] {32, 32, 3, 2000}, MatlabType.UInt8);
    var y = Mat5.newMatrix(2000, 1);
    for (int i = 0; i < 2000; i++) {
      y.setDouble(i, 1);
    }
    Mat5.writeToFile(Mat5.newMatFile().addArray("X", x).addArray("y", y), p.toFile());
    assertThat(Files.size(p)).isLessThan(200_000); // 6 MB of zeros, deflated
    assertThatThrownBy(() -> SvhnReader.parse(RawFile.read(p), "s", 8L << 20)).isInstanceOf(DataException.class)
        .hasMessage(p + ": variable X (uint8 [32, 32, 3, 2000], as its header declares) read and converted need "
            + (2000L * 3072 * 5) + " bytes, more than the 8388608 bytes a data set may take (the budget given to "
            + "the reader)");
    assertThat(SvhnReader.parse(RawFile.read(p), "s", 64L << 20).n()).isEqualTo(2000);
    byte[] b = Files.readAllBytes(p);
    for (byte[] bad : new byte[][] {java.util.Arrays.copyOf(b, b.length - 100), new byte[300]}) {
      Path f = Files.write(tmp.resolve("bad.mat"), bad);
      assertThatThrownBy(() -> SvhnReader.read(List.of(f), "s")).isInstanceOf(DataException.class)
          .hasMessageStartingWith(f + ": ").satisfies(e -> assertThat(e.getMessage())
              .doesNotContainPattern("java\\.|Exception|Error:"));
    }
  }

  /** Through {@link Datasets#load} in a JVM with a 256 MiB heap: each bomb is refused from its headers. */
  @Test
  void bombsUnderA256MiBHeapAreRefusedFromTheirHeaders() throws Exception {
    // an .npz whose x_train honestly holds 2000 x 100 x 100 zero bytes (20 MB; 80 MB as floats), deflated to 20 kB
    String big = "{'descr': '|u1', 'fortran_order': False, 'shape': (2000, 100, 100), }";
    int[] labels = new int[2000];
    labels[1] = 1;
    Path npz = npz("honest-big.npz", npy(big, new byte[20_000_000]),
        npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2000,), }", NumpyAndImageFolderTest.int32s(labels)),
        npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 100, 100), }", new byte[20_000]),
        npy(I4_2, NumpyAndImageFolderTest.int32s(1, 0)));
    // three 2048 x 2048 black RGB PNGs (150 MB as floats) of 12 kB each
    Path root = tmp.resolve("pngs");
    for (String f : new String[] {"train/a/1.png", "train/b/2.png", "test/a/3.png"}) {
      Files.createDirectories(root.resolve(f).getParent());
      Files.write(root.resolve(f), blackPng(2048, 2048, false));
    }
    // SVHN: X of 8000 zero images (24.6 MB; 98 MB as floats), deflated
    Path svhn = Files.createDirectories(tmp.resolve("svhn"));
    var x = Mat5.newMatrix(new int[] {32, 32, 3, 8000}, MatlabType.UInt8);
    var y = Mat5.newMatrix(8000, 1);
    for (int i = 0; i < 8000; i++) {
      y.setDouble(i, 1);
    }
    Mat5.writeToFile(Mat5.newMatFile().addArray("X", x).addArray("y", y), svhn.resolve("train_32x32.mat").toFile());
    TestFiles.writeSvhn(svhn.resolve("test_32x32.mat"), 2);
    String[][] cases = {
        {npz.toString(), "the arrays x_train (2000, 100, 100) of |u1"},
        {root.toString(), "3 images (2 train, 1 test) of 3 x 2048 x 2048 values as floats need 150994944 bytes"},
        {"svhn", "variable X (uint8 [32, 32, 3, 8000], as its header declares) read and converted need 122880000"}};
    for (String[] c : cases) {
      BoundsTest.Child r = BoundsTest.child(c[0], svhn.toString());
      assertThat(r.code()).as(r.out()).isEqualTo(3);
      assertThat(r.out()).contains(c[1]).contains("an eighth of this JVM's maximum heap of 256 MiB")
          .doesNotContain("OutOfMemoryError");
    }
  }
}
