package io.github.pathsgd.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 23 item 3: the pixel values of an image folder are what the files store, for every PNG colour type and bit
 * depth (written by {@link TestPng}, an encoder independent of the reader), JPEG, and grey and RGB images mixed;
 * GIF, BMP and WBMP content named {@code .png} and a cut JPEG are refused with the file named.
 */
class ImagePixelsTest {
  @TempDir Path tmp;

  private static void write(Path f, byte[] b) throws IOException {
    Files.createDirectories(f.getParent());
    Files.write(f, b);
  }

  /** A folder whose train and test sets are the one file {@code b}. */
  private Path single(String name, String file, byte[] b) throws IOException {
    Path root = tmp.resolve(name);
    write(root.resolve("train/a").resolve(file), b);
    write(root.resolve("test/a").resolve(file), b);
    return root;
  }

  @Test
  void everyPngColourTypeAndBitDepthReadsTheStoredValues() throws IOException {
    int[][] combos = {{0, 1}, {0, 2}, {0, 4}, {0, 8}, {0, 16}, {2, 8}, {2, 16}, {3, 1}, {3, 2}, {3, 4}, {3, 8},
        {4, 8}, {4, 16}, {6, 8}, {6, 16}};
    int w = 11;
    int h = 7; // odd sizes: partial bytes at the row ends, Adam7 passes of uneven size
    SplittableRandom rnd = new SplittableRandom(23);
    int checked = 0;
    for (int[] cd : combos) {
      for (boolean adam7 : new boolean[] {false, true}) {
        int ct = cd[0];
        int depth = cd[1];
        int max = (1 << depth) - 1;
        int ns = TestPng.samples(ct);
        int[] s = new int[w * h * ns];
        int[] palette = null;
        if (ct == 3) {
          palette = new int[1 << depth];
          for (int i = 0; i < palette.length; i++) {
            palette[i] = rnd.nextInt(1 << 24);
          }
        }
        for (int i = 0; i < s.length; i++) {
          s[i] = rnd.nextInt(max + 1);
        }
        s[0] = max; // white (a 1-bit white pixel must read 1.0)
        byte[] png = TestPng.encode(w, h, depth, ct, s, palette, adam7);
        Dataset d = ImageFolders.read(single("c" + ct + "d" + depth + (adam7 ? "i" : ""), "x.png", png), "t")
            .train();
        boolean grey = ct == 0 || ct == 4;
        assertThat(d.channels()).as("type %d depth %d", ct, depth).isEqualTo(grey ? 1 : 3);
        assertThat(new int[] {d.height(), d.width()}).containsExactly(h, w);
        int plane = w * h;
        for (int p = 0; p < plane; p++) {
          for (int c = 0; c < d.channels(); c++) {
            float want = ct == 3 ? (palette[s[p]] >> (16 - 8 * c) & 0xff) / 255f : s[p * ns + c] / (float) max;
            assertThat(d.x()[c * plane + p]).as("type %d depth %d adam7 %s pixel %d channel %d", ct, depth, adam7, p,
                c).isEqualTo(want);
            checked++;
          }
        }
      }
    }
    assertThat(checked).isEqualTo(2 * w * h * (5 + 2 * 3 + 4 * 3 + 2 + 2 * 3));
  }

  @Test
  void theIssuesCasesReadWhatTheFileSays() throws IOException {
    // a palette PNG: index 10 mapped to grey 245 (all entries grey: one channel)
    int[] palette = new int[16];
    for (int i = 0; i < 16; i++) {
      palette[i] = i * 0x0f0f0f;
    }
    palette[10] = 245 * 0x010101;
    int[] idx = {10, 10, 3, 0};
    Dataset pal = ImageFolders.read(single("pal", "p.png", TestPng.encode(2, 2, 4, 3, idx, palette, false)), "p")
        .train();
    assertThat(pal.channels()).isEqualTo(1);
    assertThat(pal.x()).containsExactly(245 / 255f, 245 / 255f, 45 / 255f, 0f);
    // a 1-bit PNG: white reads 1.0
    Dataset bit = ImageFolders.read(single("bit", "b.png", TestPng.encode(2, 1, 1, 0, new int[] {1, 0}, null, false)),
        "b").train();
    assertThat(bit.x()).containsExactly(1f, 0f);
    // grey + alpha: the grey value, alpha ignored
    Dataset ga = ImageFolders.read(single("ga", "g.png", TestPng.encode(1, 1, 8, 4, new int[] {128, 7}, null,
        false)), "g").train();
    assertThat(ga.x()).containsExactly(128 / 255f);
  }

  @Test
  void greyAndRgbInOneFolderKeepTheirValues() throws IOException {
    Path root = tmp.resolve("mixed");
    write(root.resolve("train/a/grey.png"), TestPng.encode(2, 1, 8, 0, new int[] {128, 64}, null, false));
    write(root.resolve("train/b/rgb.png"), TestPng.encode(2, 1, 8, 2, new int[] {128, 128, 128, 1, 2, 3}, null,
        false));
    write(root.resolve("test/a/grey16.png"), TestPng.encode(2, 1, 16, 0, new int[] {32896, 65535}, null, false));
    NumpyDatasets.Read r = ImageFolders.read(root, "m");
    Dataset tr = r.train();
    assertThat(tr.channels()).isEqualTo(3);
    // grey 128 reads 128/255 = 0.502 in each channel (not 0.737, a linear-to-sRGB conversion), like RGB 128
    assertThat(Arrays.copyOfRange(tr.x(), 0, 6)).containsExactly(128 / 255f, 64 / 255f, 128 / 255f, 64 / 255f,
        128 / 255f, 64 / 255f);
    assertThat(Arrays.copyOfRange(tr.x(), 6, 12)).containsExactly(128 / 255f, 1 / 255f, 128 / 255f, 2 / 255f,
        128 / 255f, 3 / 255f);
    assertThat(r.test().x()).containsExactly(32896 / 65535f, 1f, 32896 / 65535f, 1f, 32896 / 65535f, 1f);
  }

  @Test
  void gifBmpAndWbmpNamedPngAreRefused() throws IOException {
    BufferedImage img = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_BINARY);
    for (String[] f : new String[][] {{"gif", "a GIF image"}, {"bmp", "a BMP image"}, {"wbmp", "WBMP"}}) {
      Path root = tmp.resolve(f[0]);
      Path file = root.resolve("train/a/x.png");
      Files.createDirectories(file.getParent());
      assertThat(ImageIO.write(img, f[0], file.toFile())).isTrue();
      write(root.resolve("test/a/y.png"), TestPng.encode(4, 4, 8, 0, new int[16], null, false));
      assertThatThrownBy(() -> ImageFolders.read(root, "x")).isInstanceOf(DataException.class)
          .hasMessageStartingWith(file + ": not a PNG or JPEG image (its first bytes are")
          .hasMessageContaining(f[1]);
    }
  }

  private static byte[] jpeg(BufferedImage img) throws IOException {
    return jpeg(img, false);
  }

  private static byte[] jpeg(BufferedImage img, boolean progressive) throws IOException {
    ImageWriter w = ImageIO.getImageWritersByFormatName("jpeg").next();
    ImageWriteParam p = w.getDefaultWriteParam();
    p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
    p.setCompressionQuality(1f);
    if (progressive) {
      p.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
    }
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
      w.setOutput(out);
      w.write(null, new IIOImage(img, null, null), p);
    }
    w.dispose();
    return bytes.toByteArray();
  }

  @Test
  void jpegValuesAreTheStoredOnesAndACutJpegIsRefused() throws IOException {
    BufferedImage grey = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
    BufferedImage rgb = new BufferedImage(16, 16, BufferedImage.TYPE_3BYTE_BGR);
    for (int y = 0; y < 16; y++) {
      for (int x = 0; x < 16; x++) {
        grey.getRaster().setSample(x, y, 0, 128);
        rgb.setRGB(x, y, 200 << 16 | 100 << 8 | 50);
      }
    }
    Path root = tmp.resolve("jpeg");
    write(root.resolve("train/a/g.jpg"), jpeg(grey));
    write(root.resolve("train/b/c.jpg"), jpeg(rgb));
    write(root.resolve("test/a/g.jpg"), jpeg(grey, true)); // progressive: several scans

    NumpyDatasets.Read both = ImageFolders.read(root, "j");
    Dataset tr = both.train();
    assertThat(tr.channels()).isEqualTo(3);
    assertThat(both.test().x()[17]).isEqualTo(128 / 255f);
    int plane = 256;
    // a flat grey JPEG at quality 1.0 decodes exactly: 128 (not 0.737 after a linear-to-sRGB conversion)
    for (int c = 0; c < 3; c++) {
      assertThat(tr.x()[c * plane + 17]).isEqualTo(128 / 255f);
    }
    // RGB through YCbCr and back: within 2/255 of the stored colour
    int[] want = {200, 100, 50};
    for (int c = 0; c < 3; c++) {
      assertThat((double) tr.x()[3 * plane + c * plane + 17]).isCloseTo(want[c] / 255.0,
          org.assertj.core.data.Offset.offset(2.01 / 255));
    }
    // grey only: one channel
    Files.delete(root.resolve("train/b/c.jpg"));
    Files.delete(root.resolve("train/b"));
    assertThat(ImageFolders.read(root, "j").train().channels()).isEqualTo(1);

    // a JPEG cut inside its entropy-coded data: refused with the file named
    BufferedImage noisy = new BufferedImage(16, 16, BufferedImage.TYPE_3BYTE_BGR);
    SplittableRandom rnd = new SplittableRandom(5);
    for (int y = 0; y < 16; y++) {
      for (int x = 0; x < 16; x++) {
        noisy.setRGB(x, y, rnd.nextInt(1 << 24));
      }
    }
    byte[] full = jpeg(noisy);
    int sos = 0;
    while (!((full[sos] & 0xff) == 0xff && (full[sos + 1] & 0xff) == 0xda)) {
      sos++;
    }
    int at = (sos + full.length) / 2; // halfway through the entropy-coded data
    assertThat(full.length - sos).isGreaterThan(200);
    Path cut = root.resolve("train/a/cut.jpg");
    write(cut, Arrays.copyOf(full, at));
    assertThatThrownBy(() -> ImageFolders.read(root, "j")).isInstanceOf(DataException.class)
        .hasMessage(cut + ": truncated JPEG: the file ends at byte offset " + at
            + " before its EOI marker (ff d9) inside the compressed image data");
    write(cut, full);
    assertThat(ImageFolders.read(root, "j").train().n()).isEqualTo(2);
  }

  @Test
  void corruptOrOversizedPngDataIsRefused() throws IOException {
    byte[] ok = TestPng.encode(3, 2, 8, 0, new int[6], null, false);
    // a palette index beyond PLTE
    byte[] badIndex = TestPng.encode(2, 1, 8, 3, new int[] {0, 5}, new int[] {0x101010, 0x202020}, false);
    Path root = single("badidx", "p.png", badIndex);
    assertThatThrownBy(() -> ImageFolders.read(root, "p")).isInstanceOf(DataException.class)
        .hasMessageContaining("p.png: PNG pixel (1, 0) has palette index 5, beyond the 2 entries of its PLTE chunk");
    // a flipped byte: CRC check
    byte[] flipped = ok.clone();
    flipped[20] ^= 1;
    Path r2 = single("crc", "c.png", flipped);
    assertThatThrownBy(() -> ImageFolders.read(r2, "c")).isInstanceOf(DataException.class)
        .hasMessageContaining("c.png: PNG chunk IHDR at byte offset 8 fails its CRC-32 check");
    // image data for more rows than the header declares: refused at the first extra byte
    byte[] rows3 = TestPng.encode(3, 3, 8, 0, new int[9], null, false);
    byte[] lying = rows3.clone();
    lying[16 + 7] = 2; // IHDR height 3 -> 2, CRC recomputed
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(lying, 12, 17);
    java.nio.ByteBuffer.wrap(lying).putInt(29, (int) crc.getValue());
    Path r3 = single("extra", "e.png", lying);
    assertThatThrownBy(() -> ImageFolders.read(r3, "e")).isInstanceOf(DataException.class)
        .hasMessageContaining("e.png: PNG image data holds more than the 8 bytes the IHDR");
  }

  @Test
  void mutatedPngAndJpegFilesFailOnlyWithADataException() throws IOException {
    SplittableRandom rnd = new SplittableRandom(2323);
    BufferedImage noisy = new BufferedImage(9, 7, BufferedImage.TYPE_3BYTE_BGR);
    for (int y = 0; y < 7; y++) {
      for (int x = 0; x < 9; x++) {
        noisy.setRGB(x, y, rnd.nextInt(1 << 24));
      }
    }
    int[] s = new int[9 * 7 * 4];
    for (int i = 0; i < s.length; i++) {
      s[i] = rnd.nextInt(16);
    }
    byte[][] seeds = {TestPng.encode(9, 7, 4, 0, s, null, true), TestPng.encode(9, 7, 8, 6, s, null, false),
        TestPng.encode(9, 7, 2, 3, s, new int[] {1, 2, 3, 4}, true), jpeg(noisy)};
    Path root = tmp.resolve("fuzz");
    write(root.resolve("test/a/ok.png"), seeds[0]);
    Path f = root.resolve("train/a/m.png");
    int refused = 0;
    for (int k = 0; k < 400; k++) {
      byte[] b = seeds[k % seeds.length].clone();
      int kind = rnd.nextInt(3);
      if (kind == 0) {
        b = Arrays.copyOf(b, rnd.nextInt(b.length));
      } else {
        for (int j = 0, n = 1 + rnd.nextInt(4); j < n; j++) {
          int at = rnd.nextInt(b.length);
          b[at] = kind == 1 ? (byte) rnd.nextInt(256) : (byte) (b[at] ^ 1 << rnd.nextInt(8));
        }
      }
      write(f, b);
      try {
        ImageFolders.read(root, "f");
      } catch (DataException e) {
        assertThat(e.getMessage()).startsWith(root.toString());
        refused++;
      }
    }
    assertThat(refused).isGreaterThan(300);
  }
}
