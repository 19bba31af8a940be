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

  /**
   * Stores one grey value at {@code at}: in the single plane of a grey data set, or in all three planes (R, G, B;
   * {@code plane} values apart) of a data set that also holds colour images.
   */
  static void putGrey(float[] out, int at, int plane, int channels, float v) {
    out[at] = v;
    if (channels == 3) {
      out[at + plane] = v;
      out[at + 2 * plane] = v;
    }
  }
}
