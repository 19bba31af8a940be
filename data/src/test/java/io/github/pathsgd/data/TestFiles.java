package io.github.pathsgd.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import us.hebi.matlab.mat.format.Mat5;
import us.hebi.matlab.mat.format.Mat5File;
import us.hebi.matlab.mat.types.MatlabType;
import us.hebi.matlab.mat.types.Matrix;

/** Writers of small files in the published formats, with pixel value {@code pixel(i, k) = (i * 7 + k) & 0xFF}. */
final class TestFiles {
  private TestFiles() {}

  static int pixel(int image, int k) {
    return (image * 7 + k * 3) & 0xFF;
  }

  static byte[] gzip(byte[] b) {
    try {
      ByteArrayOutputStream bo = new ByteArrayOutputStream();
      try (GZIPOutputStream g = new GZIPOutputStream(bo)) {
        g.write(b);
      }
      return bo.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] idxImages(int n, int rows, int cols) {
    ByteBuffer b = ByteBuffer.allocate(16 + n * rows * cols);
    b.putInt(0x803).putInt(n).putInt(rows).putInt(cols);
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < rows * cols; k++) {
        b.put((byte) pixel(i, k));
      }
    }
    return b.array();
  }

  static byte[] idxLabels(int n, int classes) {
    ByteBuffer b = ByteBuffer.allocate(8 + n);
    b.putInt(0x801).putInt(n);
    for (int i = 0; i < n; i++) {
      b.put((byte) (i % classes));
    }
    return b.array();
  }

  /** Writes an MNIST folder (train n, test m), gzip or raw. */
  static void writeMnist(Path dir, int n, int m, boolean gz) throws IOException {
    Files.createDirectories(dir);
    String s = gz ? ".gz" : "";
    write(dir.resolve("train-images-idx3-ubyte" + s), idxImages(n, 28, 28), gz);
    write(dir.resolve("train-labels-idx1-ubyte" + s), idxLabels(n, 10), gz);
    write(dir.resolve("t10k-images-idx3-ubyte" + s), idxImages(m, 28, 28), gz);
    write(dir.resolve("t10k-labels-idx1-ubyte" + s), idxLabels(m, 10), gz);
  }

  static void write(Path p, byte[] b, boolean gz) throws IOException {
    Files.write(p, gz ? gzip(b) : b);
  }

  /** CIFAR records: label bytes (label of record i: i % classes, coarse: i % 20) then pixels. */
  static byte[] cifar(int n, boolean hundred, int first) {
    int rec = hundred ? 3074 : 3073;
    byte[] b = new byte[n * rec];
    for (int i = 0; i < n; i++) {
      int o = i * rec;
      int img = first + i;
      if (hundred) {
        b[o] = (byte) (img % 20);
        b[o + 1] = (byte) (img % 100);
        o += 2;
      } else {
        b[o] = (byte) (img % 10);
        o += 1;
      }
      for (int k = 0; k < 3072; k++) {
        b[o + k] = (byte) pixel(img, k);
      }
    }
    return b;
  }

  /** SVHN .mat with X uint8 [32 32 3 n] (X(r,c,ch,i) = pixel(i, ch*1024 + r*32 + c)) and y = i % 10 + 1. */
  static void writeSvhn(Path p, int n) throws IOException {
    Matrix x = Mat5.newMatrix(new int[] {32, 32, 3, n}, MatlabType.UInt8);
    for (int i = 0; i < n; i++) {
      for (int ch = 0; ch < 3; ch++) {
        for (int r = 0; r < 32; r++) {
          for (int c = 0; c < 32; c++) {
            x.setByte(new int[] {r, c, ch, i}, (byte) pixel(i, ch * 1024 + r * 32 + c));
          }
        }
      }
    }
    Matrix y = Mat5.newMatrix(n, 1);
    for (int i = 0; i < n; i++) {
      y.setDouble(i, i % 10 + 1);
    }
    Mat5File f = Mat5.newMatFile();
    f.addArray("X", x);
    f.addArray("y", y);
    Mat5.writeToFile(f, p.toFile());
  }

  static List<Path> list(Path... p) {
    return List.of(p);
  }
}
