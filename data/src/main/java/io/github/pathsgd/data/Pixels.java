package io.github.pathsgd.data;

/** Byte to float conversion shared by the readers: {@code (b & 0xFF) / 255f} through a lookup table. */
final class Pixels {
  static final float[] LUT = new float[256];

  static {
    for (int i = 0; i < 256; i++) {
      LUT[i] = i / 255f;
    }
  }

  private Pixels() {}

  /** Converts {@code len} bytes from {@code src[from..]} to {@code dst[to..]} scaled to [0,1]. */
  static void toUnit(byte[] src, int from, float[] dst, int to, int len) {
    float[] lut = LUT;
    for (int i = 0; i < len; i++) {
      dst[to + i] = lut[src[from + i] & 0xFF];
    }
  }
}
