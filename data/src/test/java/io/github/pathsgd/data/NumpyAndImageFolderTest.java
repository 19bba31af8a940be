package io.github.pathsgd.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The NumPy ({@code .npz}, {@code .npy}) and image-folder readers: files written by NumPy itself (the fixtures under
 * {@code numpy/}, values chosen so each element is known by hand), files these tests write byte by byte, and hostile
 * variants of both.
 */
class NumpyAndImageFolderTest {
  @TempDir Path tmp;

  private Path fixture(String name) throws IOException {
    Path p = tmp.resolve(name);
    try (InputStream in = getClass().getResourceAsStream("numpy/" + name)) {
      Files.copy(in, p);
    }
    return p;
  }

  @Test
  void readsKerasStyleArchiveWrittenByNumpy() throws IOException {
    NumpyDatasets.Read r = NumpyDatasets.read(fixture("keras-style.npz"), "ks");
    Dataset tr = r.train();
    assertThat(tr.n()).isEqualTo(5);
    assertThat(new int[] {tr.channels(), tr.height(), tr.width()}).containsExactly(1, 3, 4);
    for (int k = 0; k < 60; k++) {
      assertThat(tr.x()[k]).isEqualTo((float) (4 * k / 255.0)); // uint8 4k scaled by 1/255
    }
    assertThat(tr.y()).containsExactly(0, 1, 2, 1, 0);
    assertThat(tr.numClasses()).isEqualTo(3);
    Dataset te = r.test();
    for (int k = 0; k < 24; k++) {
      assertThat(te.x()[k]).isEqualTo(k / 8f); // float32 taken as it is
    }
    assertThat(te.y()).containsExactly(2, 1); // (N, 1) labels
    assertThat(r.files()).hasSize(4).allSatisfy((k, v) -> assertThat(v).hasSize(64));
  }

  @Test
  void channelsLastBecomeChwAndHalfAndBigEndianAreDecoded() throws IOException {
    NumpyDatasets.Read r = NumpyDatasets.read(fixture("nhwc.npz"), "nhwc");
    Dataset tr = r.train();
    assertThat(new int[] {tr.channels(), tr.height(), tr.width()}).containsExactly(3, 2, 2);
    for (int i = 0; i < 3; i++) {
      for (int ch = 0; ch < 3; ch++) {
        for (int row = 0; row < 2; row++) {
          for (int col = 0; col < 2; col++) {
            assertThat(tr.x()[i * 12 + (ch * 2 + row) * 2 + col]).isEqualTo(1000f * i + 100 * ch + 10 * row + col);
          }
        }
      }
    }
    // float16 test set: value (100ch + 10r + c)/1000 rounded to half precision (relative error below 2^-11)
    Dataset te = r.test();
    for (int ch = 0; ch < 3; ch++) {
      for (int row = 0; row < 2; row++) {
        for (int col = 0; col < 2; col++) {
          double want = (100 * ch + 10 * row + col) / 1000.0;
          assertThat((double) te.x()[(ch * 2 + row) * 2 + col]).isCloseTo(want,
              org.assertj.core.data.Offset.offset(want * 0x1p-11 + 1e-9));
        }
      }
    }
    assertThat(r.files()).containsKey(r.files().keySet().stream().filter(k -> k.contains("ignored")).findFirst()
        .orElseThrow());
  }

  @Test
  void halfPrecisionBitPatternsWorkedOutByHand() {
    assertThat(NumpyArray.halfToFloat((short) 0x3C00)).isEqualTo(1f);
    assertThat(NumpyArray.halfToFloat((short) 0xC000)).isEqualTo(-2f);
    assertThat(NumpyArray.halfToFloat((short) 0x0001)).isEqualTo(0x1p-24f);
    assertThat(NumpyArray.halfToFloat((short) 0x03FF)).isEqualTo(1023 * 0x1p-24f);
    assertThat(NumpyArray.halfToFloat((short) 0x7BFF)).isEqualTo(65504f);
    assertThat(NumpyArray.halfToFloat((short) 0x2E66)).isEqualTo(0.0999755859375f);
    assertThat(NumpyArray.halfToFloat((short) 0x7C00)).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(NumpyArray.halfToFloat((short) 0x7E00)).isNaN();
    assertThat(NumpyArray.halfToFloat((short) 0x8000)).isEqualTo(-0f);
  }

  /** A version-1.0 .npy image with the given header dict and data bytes, padded as NumPy pads it. */
  static byte[] npy(String dict, byte[] data) {
    int pre = 10;
    int total = pre + dict.length() + 1;
    int pad = (64 - total % 64) % 64;
    String header = dict + " ".repeat(pad) + "\n";
    ByteBuffer b = ByteBuffer.allocate(pre + header.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    b.putShort((short) header.length());
    b.put(header.getBytes(StandardCharsets.ISO_8859_1));
    b.put(data);
    return b.array();
  }

  static byte[] int32s(int... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int x : v) {
      b.putInt(x);
    }
    return b.array();
  }

  private Path folder(byte[] xtr, byte[] ytr, byte[] xte, byte[] yte) throws IOException {
    Path d = Files.createDirectories(tmp.resolve("npyfolder"));
    Files.write(d.resolve("x_train.npy"), xtr);
    Files.write(d.resolve("y_train.npy"), ytr);
    Files.write(d.resolve("x_test.npy"), xte);
    Files.write(d.resolve("y_test.npy"), yte);
    return d;
  }

  private static final String U8_2x3 = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }";
  private static final String I4_2 = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }";

  @Test
  void npyFolderOfFlatVectors() throws IOException {
    Path d = folder(npy(U8_2x3, new byte[] {0, (byte) 255, 51, 102, (byte) 204, 1}), npy(I4_2, int32s(3, 0)),
        npy(U8_2x3, new byte[6]), npy(I4_2, int32s(1, 1)));
    assertThat(NumpyDatasets.accepts(d)).isTrue();
    NumpyDatasets.Read r = NumpyDatasets.read(d, "flat");
    assertThat(new int[] {r.train().channels(), r.train().height(), r.train().width()}).containsExactly(1, 1, 3);
    assertThat(r.train().x()).containsExactly(0f, 1f, 0.2f, 0.4f, 0.8f, (float) (1 / 255.0));
    assertThat(r.train().numClasses()).isEqualTo(4);
  }

  @Test
  void hostileNpyFilesAreRefusedByField() throws IOException {
    byte[] ok = npy(U8_2x3, new byte[6]);
    byte[] y = npy(I4_2, int32s(0, 1));
    // truncated data
    assertRefused(npy(U8_2x3, new byte[5]), y, "needs 6 data bytes, the file has 5 (truncated)");
    // trailing bytes
    assertRefused(npy(U8_2x3, new byte[7]), y, "(trailing bytes)");
    // a shape whose product overflows: refused before any allocation
    assertRefused(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2147483647, 2147483647), }", new byte[0]),
        y, "more than 2147483647 elements");
    assertRefused(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (-2, 3), }", new byte[0]), y,
        "dimension 0 '-2' is not a count");
    assertRefused(npy("{'descr': '<c8', 'fortran_order': False, 'shape': (2, 3), }", new byte[48]), y,
        "field descr '<c8' is not supported");
    assertRefused(npy("{'descr': '|O', 'fortran_order': False, 'shape': (2, 3), }", new byte[48]), y,
        "field descr '|O'");
    assertRefused(npy("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3), }", new byte[6]), y,
        "fortran_order is True");
    assertRefused(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), 'extra': 1, }", new byte[6]), y,
        "unknown key 'extra'");
    assertRefused("not numpy".getBytes(StandardCharsets.US_ASCII), y, "does not start with \\x93NUMPY");
    byte[] v9 = ok.clone();
    v9[6] = 9;
    assertRefused(v9, y, "format version 9.0 is not supported");
    byte[] longHeader = ok.clone();
    longHeader[8] = (byte) 0xff;
    longHeader[9] = (byte) 0xff;
    assertRefused(longHeader, y, "header length 65535 does not fit");
    // labels: wrong count, negative, float, wrong rank
    assertRefused(ok, npy("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", int32s(0, 1, 2)),
        "y_train has shape [3]; expected (2,) or (2, 1)");
    assertRefused(ok, npy(I4_2, int32s(0, -1)), "y_train[1] = -1; expected a class label");
    assertRefused(ok, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", new byte[8]),
        "expected integer class labels");
    // images: other integer types have no known scale; non-finite floats
    assertRefused(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", new byte[24]), y,
        "images have type <i4; expected uint8");
    ByteBuffer nan = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
    nan.putFloat(16, Float.NaN);
    assertRefused(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", nan.array()), y,
        "element [1, 1] is NaN; expected finite");
  }

  private void assertRefused(byte[] xtr, byte[] ytr, String message) throws IOException {
    Path d = folder(xtr, ytr, npy(U8_2x3, new byte[6]), npy(I4_2, int32s(0, 1)));
    assertThatThrownBy(() -> NumpyDatasets.read(d, "bad")).isInstanceOf(DataException.class)
        .hasMessageContaining(d.toString()).hasMessageContaining(message);
  }

  @Test
  void archiveProblemsNameTheArchive() throws IOException {
    Path missing = tmp.resolve("missing.npz");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(missing))) {
      z.putNextEntry(new ZipEntry("x_train.npy"));
      z.write(npy(U8_2x3, new byte[6]));
      z.closeEntry();
    }
    assertThatThrownBy(() -> NumpyDatasets.read(missing, "m")).isInstanceOf(DataException.class)
        .hasMessageContaining(missing + ": the archive has no array y_train");
    Path notZip = Files.write(tmp.resolve("plain.npz"), "hello".getBytes(StandardCharsets.US_ASCII));
    assertThatThrownBy(() -> NumpyDatasets.read(notZip, "p")).isInstanceOf(DataException.class)
        .hasMessageContaining(notZip + ": not a readable .npz");
    Path x = Files.write(tmp.resolve("ok.npy"), npy(U8_2x3, new byte[6]));
    Path test = Files.createDirectories(tmp.resolve("shapes"));
    Files.copy(x, test.resolve("x_train.npy"));
    Files.write(test.resolve("y_train.npy"), npy(I4_2, int32s(0, 1)));
    Files.write(test.resolve("x_test.npy"), npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 4), }",
        new byte[8]));
    Files.write(test.resolve("y_test.npy"), npy(I4_2, int32s(0, 1)));
    assertThatThrownBy(() -> NumpyDatasets.read(test, "s")).isInstanceOf(DataException.class)
        .hasMessageContaining("x_train images [3] and x_test images [4] differ in shape");
  }

  @Test
  void aFifoInPlaceOfAnArrayIsRefusedWithoutBlocking() throws Exception {
    Path d = folder(npy(U8_2x3, new byte[6]), npy(I4_2, int32s(0, 1)), npy(U8_2x3, new byte[6]),
        npy(I4_2, int32s(0, 1)));
    Files.delete(d.resolve("x_test.npy"));
    Process p = new ProcessBuilder("mkfifo", d.resolve("x_test.npy").toString()).start();
    org.junit.jupiter.api.Assumptions.assumeTrue(p.waitFor() == 0, "mkfifo not available");
    assertThatThrownBy(() -> NumpyDatasets.read(d, "fifo")).isInstanceOf(DataException.class)
        .hasMessageContaining("x_test.npy").hasMessageContaining("FIFO");
  }

  private static void png(Path f, int w, int h, int type, int seed) throws IOException {
    BufferedImage img = new BufferedImage(w, h, type);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int v = (seed * 37 + y * 11 + x * 5) & 0xff;
        if (type == BufferedImage.TYPE_BYTE_GRAY) {
          img.getRaster().setSample(x, y, 0, v);
        } else {
          img.setRGB(x, y, v << 16 | (255 - v) << 8 | (v / 2));
        }
      }
    }
    Files.createDirectories(f.getParent());
    ImageIO.write(img, "png", f.toFile());
  }

  @Test
  void imageFolderInTorchvisionLayout() throws IOException {
    Path root = tmp.resolve("imgs");
    png(root.resolve("train/cat/b.png"), 3, 2, BufferedImage.TYPE_INT_RGB, 1);
    png(root.resolve("train/cat/a.png"), 3, 2, BufferedImage.TYPE_INT_RGB, 2);
    png(root.resolve("train/dog/c.png"), 3, 2, BufferedImage.TYPE_INT_RGB, 3);
    png(root.resolve("test/dog/d.png"), 3, 2, BufferedImage.TYPE_INT_RGB, 4);
    Files.writeString(root.resolve("train/cat/.DS_Store"), "junk");
    assertThat(ImageFolders.accepts(root)).isTrue();
    NumpyDatasets.Read r = ImageFolders.read(root, "imgs");
    Dataset tr = r.train();
    assertThat(new int[] {tr.n(), tr.channels(), tr.height(), tr.width()}).containsExactly(3, 3, 2, 3);
    assertThat(tr.y()).containsExactly(0, 0, 1); // classes sorted: cat = 0, dog = 1; files sorted: a, b
    // a.png (seed 2), pixel (x = 1, y = 1): v = (74 + 11 + 5) & 0xff = 90 → R 90, G 165, B 45
    int d = 3 * 2 * 3;
    int at = 1 * 3 + 1;
    assertThat(tr.x()[at]).isEqualTo(90 / 255f);
    assertThat(tr.x()[6 + at]).isEqualTo(165 / 255f);
    assertThat(tr.x()[12 + at]).isEqualTo(45 / 255f);
    assertThat(r.test().y()).containsExactly(1);
    assertThat(r.test().x()[d - 1]).isGreaterThanOrEqualTo(0f);
  }

  @Test
  void greyImagesGiveOneChannelAndMismatchesAreRefused() throws IOException {
    Path root = tmp.resolve("grey");
    png(root.resolve("train/0/a.png"), 2, 2, BufferedImage.TYPE_BYTE_GRAY, 1);
    png(root.resolve("train/1/a.png"), 2, 2, BufferedImage.TYPE_BYTE_GRAY, 2);
    png(root.resolve("val/1/a.png"), 2, 2, BufferedImage.TYPE_BYTE_GRAY, 3);
    NumpyDatasets.Read r = ImageFolders.read(root, "grey");
    assertThat(r.train().channels()).isEqualTo(1);
    assertThat(r.train().x()[3]).isEqualTo(((37 + 11 + 5) & 0xff) / 255f); // seed 1, x = 1, y = 1
    png(root.resolve("val/2/a.png"), 2, 2, BufferedImage.TYPE_BYTE_GRAY, 3);
    assertThatThrownBy(() -> ImageFolders.read(root, "grey")).isInstanceOf(DataException.class)
        .hasMessageContaining("class folder '2' is not a class of the training set [0, 1]");
    Files.delete(root.resolve("val/2/a.png"));
    Files.delete(root.resolve("val/2"));
    png(root.resolve("train/1/b.png"), 3, 2, BufferedImage.TYPE_BYTE_GRAY, 3);
    assertThatThrownBy(() -> ImageFolders.read(root, "grey")).isInstanceOf(DataException.class)
        .hasMessageContaining("b.png: 3 x 2 pixels; expected 2 x 2");
    Files.delete(root.resolve("train/1/b.png"));
    Files.write(root.resolve("train/1/broken.png"), "not a png".getBytes(StandardCharsets.US_ASCII));
    assertThatThrownBy(() -> ImageFolders.read(root, "grey")).isInstanceOf(DataException.class)
        .hasMessageContaining("broken.png: not a PNG or JPEG image");
  }

  @Test
  void aHugeDeclaredImageIsRefusedFromItsHeader() throws IOException {
    // a valid PNG signature and IHDR claiming 100000 x 100000 pixels, then nothing: refused before decoding
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10});
    ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(100_000).putInt(100_000).put((byte) 8).put((byte) 2)
        .put((byte) 0).put((byte) 0).put((byte) 0);
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update("IHDR".getBytes(StandardCharsets.US_ASCII));
    crc.update(ihdr.array());
    b.write(ByteBuffer.allocate(4).putInt(13).array());
    b.write("IHDR".getBytes(StandardCharsets.US_ASCII));
    b.write(ihdr.array());
    b.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    Path root = tmp.resolve("bomb");
    png(root.resolve("train/0/a.png"), 2, 2, BufferedImage.TYPE_INT_RGB, 1);
    png(root.resolve("test/0/a.png"), 2, 2, BufferedImage.TYPE_INT_RGB, 1);
    Files.write(root.resolve("train/0/huge.png"), b.toByteArray());
    assertThatThrownBy(() -> ImageFolders.read(root, "bomb")).isInstanceOf(DataException.class)
        .hasMessageContaining("huge.png: 100000 x 100000 pixels; expected at most");
  }

  @Test
  void aPathIsADataSetOfTheRegistryWithSplitAndPreprocessing() throws IOException {
    Path npz = fixture("keras-style.npz");
    DataSplits s = Datasets.load(new DataRequest(npz.toString(), null, 1, 3L, Preprocessing.NONE));
    assertThat(s.train().n()).isEqualTo(4); // 5 training images, 1 to validation
    assertThat(s.validation().n()).isEqualTo(1);
    assertThat(s.test().n()).isEqualTo(2);
    assertThat(s.provenance().get("files")).contains("keras-style.npz!x_train.npy");
    assertThat(DatasetInfo.of(npz.toString(), null).trainCount()).isEqualTo(5);
    Path root = tmp.resolve("reg-imgs");
    png(root.resolve("train/a/1.png"), 2, 2, BufferedImage.TYPE_BYTE_GRAY, 1);
    png(root.resolve("train/b/1.png"), 2, 2, BufferedImage.TYPE_BYTE_GRAY, 2);
    png(root.resolve("test/b/1.png"), 2, 2, BufferedImage.TYPE_BYTE_GRAY, 3);
    assertThat(Datasets.load(new DataRequest(root.toString(), null, 0, 0L, Preprocessing.NONE)).train().n())
        .isEqualTo(2);
    Path empty = Files.createDirectories(tmp.resolve("not-data"));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Datasets.load(DataRequest.of(empty.toString(), null)))
        .isInstanceOf(DataException.class).hasMessageContaining(empty + ": a folder given as a data set must hold");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Datasets.load(DataRequest.of("/nonexistent/x.npz", null)))
        .isInstanceOf(DataException.class).hasMessageContaining("no such NumPy archive");
  }
}
