package io.github.pathsgd.data;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * A small PNG encoder for tests, written from the specification independently of {@link Png}: every colour type
 * and bit depth, filters 0-4 chosen in turn per row, optional Adam7 interlacing, image data split over two IDAT
 * chunks, with a {@code gAMA} chunk (and {@code tRNS} for palettes) that a reader must ignore.
 */
final class TestPng {
  private static final int[][] ADAM7 = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4},
      {1, 0, 2, 2}, {0, 1, 1, 2}};

  private TestPng() {}

  static int samples(int ct) {
    return ct == 2 ? 3 : ct == 4 ? 2 : ct == 6 ? 4 : 1;
  }

  /**
   * Encodes {@code s} (row-major, {@link #samples} values per pixel) as a PNG.
   *
   * @param palette PLTE entries as 0xRRGGBB (colour type 3), else null
   */
  static byte[] encode(int w, int h, int depth, int ct, int[] s, int[] palette, boolean adam7) {
    int ns = samples(ct);
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    int[][] passes = adam7 ? ADAM7 : new int[][] {{0, 0, 1, 1}};
    int bpp = Math.max(1, depth * ns / 8);
    int k = 0;
    for (int[] p : passes) {
      int pw = (w - p[0] + p[2] - 1) / p[2];
      int ph = (h - p[1] + p[3] - 1) / p[3];
      if (pw <= 0 || ph <= 0) {
        continue;
      }
      int rb = (pw * depth * ns + 7) / 8;
      int[] prev = new int[rb];
      for (int r = 0; r < ph; r++) {
        int y = p[1] + r * p[3];
        int[] cur = new int[rb];
        for (int i = 0; i < pw; i++) {
          int x = p[0] + i * p[2];
          for (int c = 0; c < ns; c++) {
            int v = s[(y * w + x) * ns + c];
            int idx = i * ns + c;
            if (depth == 16) {
              cur[2 * idx] = v >> 8;
              cur[2 * idx + 1] = v & 0xff;
            } else if (depth == 8) {
              cur[idx] = v;
            } else {
              int bit = idx * depth;
              cur[bit / 8] |= v << (8 - depth - bit % 8);
            }
          }
        }
        int f = k++ % 5;
        raw.write(f);
        for (int i = 0; i < rb; i++) {
          int a = i >= bpp ? cur[i - bpp] : 0;
          int b = prev[i];
          int c = i >= bpp ? prev[i - bpp] : 0;
          int pred = switch (f) {
            case 0 -> 0;
            case 1 -> a;
            case 2 -> b;
            case 3 -> (a + b) / 2;
            default -> {
              int pp = a + b - c;
              int pa = Math.abs(pp - a);
              int pb = Math.abs(pp - b);
              int pc = Math.abs(pp - c);
              yield pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
            }
          };
          raw.write((cur[i] - pred) & 0xff);
        }
        prev = cur;
      }
    }
    Deflater d = new Deflater();
    d.setInput(raw.toByteArray());
    d.finish();
    ByteArrayOutputStream z = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    while (!d.finished()) {
      z.write(buf, 0, d.deflate(buf));
    }
    d.end();
    byte[] zl = z.toByteArray();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10});
    chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) depth).put((byte) ct).put((byte) 0)
        .put((byte) 0).put((byte) (adam7 ? 1 : 0)).array());
    chunk(out, "gAMA", ByteBuffer.allocate(4).putInt(100000).array()); // gamma 1.0: must not change any value
    if (palette != null) {
      byte[] pl = new byte[palette.length * 3];
      byte[] trns = new byte[palette.length];
      for (int i = 0; i < palette.length; i++) {
        pl[3 * i] = (byte) (palette[i] >> 16);
        pl[3 * i + 1] = (byte) (palette[i] >> 8);
        pl[3 * i + 2] = (byte) palette[i];
        trns[i] = (byte) (i * 37);
      }
      chunk(out, "PLTE", pl);
      chunk(out, "tRNS", trns);
    }
    int half = zl.length / 2;
    chunk(out, "IDAT", java.util.Arrays.copyOfRange(zl, 0, half));
    chunk(out, "IDAT", java.util.Arrays.copyOfRange(zl, half, zl.length));
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    out.writeBytes(t);
    out.writeBytes(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }
}
