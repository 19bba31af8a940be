package io.github.pathsgd.data;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A strict PNG decoder (ISO/IEC 15948, the W3C PNG specification) that gives each pixel the value the file stores:
 * grey and colour samples divided by their maximum ({@code 2^depth - 1}: 1, 3, 15, 255 or 65535), palette indices
 * looked up in {@code PLTE}; alpha (colour types 4 and 6, {@code tRNS}) is ignored, and so are gamma, colour
 * profiles and every other ancillary chunk. Every colour type (0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGB +
 * alpha) and bit depth the specification allows, filters 0-4 and Adam7 interlacing are read. No
 * {@code java.awt} colour conversion is involved.
 *
 * <p>Memory: the image data is inflated one row at a time straight into the caller's float array; the inflater's
 * output is capped at the exact size the header implies, so data beyond it is refused at its first extra byte.
 */
final class Png {
  static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10};

  private static final int[][] ADAM7 = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4},
      {1, 0, 2, 2}, {0, 1, 1, 2}};

  private Png() {}

  /**
   * What a PNG file declares, read from its chunks (every chunk's CRC checked).
   *
   * @param palette the {@code PLTE} entries as {@code 0xRRGGBB}, or {@code null}
   * @param idat the (offset, length) of each {@code IDAT} chunk's data, in order
   */
  record Header(int width, int height, int depth, int colourType, boolean interlaced, int[] palette,
      List<int[]> idat) {
    /** Samples per pixel in the file: 1 grey, 3 RGB, 1 palette, 2 grey + alpha, 4 RGB + alpha. */
    int samples() {
      return switch (colourType) {
        case 2 -> 3;
        case 4 -> 2;
        case 6 -> 4;
        default -> 1;
      };
    }

    /** Whether every pixel is grey: colour types 0 and 4, or a palette whose entries all have R = G = B. */
    boolean grey() {
      if (colourType == 0 || colourType == 4) {
        return true;
      }
      if (colourType != 3) {
        return false;
      }
      for (int e : palette) {
        if ((e >> 16 & 0xff) != (e & 0xff) || (e >> 8 & 0xff) != (e & 0xff)) {
          return false;
        }
      }
      return true;
    }

    /** Bytes of one row of {@code w} pixels (without the filter byte). */
    long rowBytes(long w) {
      return (w * depth * samples() + 7) / 8;
    }
  }

  /** Whether {@code b} starts with the PNG signature. */
  static boolean is(byte[] b) {
    return b.length >= 8 && java.util.Arrays.equals(b, 0, 8, SIGNATURE, 0, 8);
  }

  /** Parses and checks the chunk structure of a PNG file held in {@code b}. */
  static Header header(String src, byte[] b) {
    if (!is(b)) {
      throw new DataException(src + ": not a PNG file (bytes 0-7 are not the PNG signature 89 50 4e 47 0d 0a 1a 0a)");
    }
    int p = 8;
    int w = 0;
    int h = 0;
    int depth = 0;
    int ct = -1;
    boolean interlaced = false;
    int[] palette = null;
    List<int[]> idat = new ArrayList<>();
    boolean idatDone = false;
    boolean end = false;
    CRC32 crc = new CRC32();
    while (!end) {
      if (b.length - p < 12) {
        throw new DataException(src + ": truncated PNG: the chunk at byte offset " + p + " needs at least 12 bytes, "
            + "the file has " + (b.length - p) + " left (no IEND chunk)");
      }
      long len = be32(b, p);
      String type = new String(b, p + 4, 4, StandardCharsets.ISO_8859_1);
      if (len > Integer.MAX_VALUE || len > b.length - p - 12L) {
        throw new DataException(src + ": truncated PNG: chunk " + printable(type) + " at byte offset " + p
            + " declares " + len + " data bytes, the file has " + (b.length - p - 12L) + " left");
      }
      int n = (int) len;
      crc.reset();
      crc.update(b, p + 4, 4 + n);
      if (crc.getValue() != be32(b, p + 8 + n)) {
        throw new DataException(src + ": PNG chunk " + printable(type) + " at byte offset " + p
            + " fails its CRC-32 check (corrupt file)");
      }
      int d = p + 8;
      if (p == 8 && !type.equals("IHDR")) {
        throw new DataException(src + ": the first PNG chunk is " + printable(type) + ", expected IHDR");
      }
      switch (type) {
        case "IHDR" -> {
          if (p != 8 || n != 13) {
            throw new DataException(src + ": PNG chunk IHDR at byte offset " + p + " has " + n
                + " bytes; expected one 13-byte IHDR first");
          }
          long lw = be32(b, d);
          long lh = be32(b, d + 4);
          depth = b[d + 8] & 0xff;
          ct = b[d + 9] & 0xff;
          int comp = b[d + 10] & 0xff;
          int filter = b[d + 11] & 0xff;
          int il = b[d + 12] & 0xff;
          if (lw < 1 || lh < 1 || lw > Integer.MAX_VALUE || lh > Integer.MAX_VALUE) {
            throw new DataException(src + ": PNG IHDR size " + lw + " x " + lh + "; expected 1 to " + Integer.MAX_VALUE
                + " pixels each way");
          }
          if (lw * lh > ImageFolders.MAX_PIXELS) {
            throw new DataException(src + ": " + lw + " x " + lh + " pixels; expected at most "
                + ImageFolders.MAX_PIXELS);
          }
          w = (int) lw;
          h = (int) lh;
          boolean ok = switch (ct) {
            case 0 -> depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
            case 3 -> depth == 1 || depth == 2 || depth == 4 || depth == 8;
            case 2, 4, 6 -> depth == 8 || depth == 16;
            default -> false;
          };
          if (!ok) {
            throw new DataException(src + ": PNG IHDR colour type " + ct + " with bit depth " + depth + " is not "
                + "allowed (expected type 0 with depth 1/2/4/8/16, 3 with 1/2/4/8, or 2/4/6 with 8/16)");
          }
          if (comp != 0 || filter != 0 || il > 1) {
            throw new DataException(src + ": PNG IHDR compression " + comp + ", filter method " + filter
                + ", interlace " + il + "; expected 0, 0 and 0 or 1");
          }
          interlaced = il == 1;
        }
        case "PLTE" -> {
          if (palette != null || !idat.isEmpty() || n % 3 != 0 || n == 0 || n > 768) {
            throw new DataException(src + ": PNG chunk PLTE at byte offset " + p + " has " + n + " bytes; expected "
                + "one PLTE of 1 to 256 three-byte entries before the image data");
          }
          palette = new int[n / 3];
          for (int i = 0; i < palette.length; i++) {
            palette[i] = (b[d + 3 * i] & 0xff) << 16 | (b[d + 3 * i + 1] & 0xff) << 8 | (b[d + 3 * i + 2] & 0xff);
          }
        }
        case "IDAT" -> {
          if (idatDone) {
            throw new DataException(src + ": PNG IDAT chunk at byte offset " + p + " after another chunk that "
                + "followed the image data; expected consecutive IDAT chunks");
          }
          idat.add(new int[] {d, n});
        }
        case "IEND" -> end = true;
        default -> {
          if (Character.isUpperCase(type.charAt(0)) || !type.chars().allMatch(Character::isLetter)) {
            throw new DataException(src + ": PNG chunk " + printable(type) + " at byte offset " + p
                + " is not a known critical chunk (expected IHDR, PLTE, IDAT, IEND or an ancillary chunk)");
          }
        }
      }
      if (!idat.isEmpty() && !type.equals("IDAT")) {
        idatDone = true;
      }
      p += 12 + n;
    }
    if (idat.isEmpty()) {
      throw new DataException(src + ": PNG has no IDAT chunk (no image data)");
    }
    if (ct == 3 && palette == null) {
      throw new DataException(src + ": PNG colour type 3 (palette) without a PLTE chunk");
    }
    return new Header(w, h, depth, ct, interlaced, ct == 3 ? palette : null, idat);
  }

  /** Bytes the image data inflates to: one filter byte per row plus the rows, per Adam7 pass if interlaced. */
  static long inflatedSize(Header hd) {
    long total = 0;
    for (int[] pass : passes(hd)) {
      long pw = (hd.width() - pass[0] + pass[2] - 1L) / pass[2];
      long ph = (hd.height() - pass[1] + pass[3] - 1L) / pass[3];
      if (pw > 0 && ph > 0) {
        total += ph * (1 + hd.rowBytes(pw));
      }
    }
    return total;
  }

  private static int[][] passes(Header hd) {
    return hd.interlaced() ? ADAM7 : new int[][] {{0, 0, 1, 1}};
  }

  /**
   * Decodes the pixels into {@code out[off ..]} as {@code channels} planes of height x width (CHW): 1 (only for a
   * grey image) or 3 (a grey image's value repeated in each).
   */
  static void decode(String src, byte[] b, Header hd, float[] out, int off, int channels) {
    int w = hd.width();
    int h = hd.height();
    int plane = w * h;
    int ns = hd.samples();
    int depth = hd.depth();
    int bpp = Math.max(1, depth * ns / 8);
    float max = (1 << depth) - 1;
    long expected = inflatedSize(hd);
    Inflater inf = new Inflater();
    try {
      Feed feed = new Feed(src, b, hd.idat(), inf, expected);
      byte[] prev = new byte[Math.toIntExact(hd.rowBytes(w))];
      byte[] row = new byte[prev.length];
      for (int[] pass : passes(hd)) {
        int pw = (w - pass[0] + pass[2] - 1) / pass[2];
        int ph = (h - pass[1] + pass[3] - 1) / pass[3];
        if (pw <= 0 || ph <= 0) {
          continue;
        }
        int rb = (int) hd.rowBytes(pw);
        java.util.Arrays.fill(prev, 0, rb, (byte) 0);
        byte[] ft = new byte[1];
        for (int r = 0; r < ph; r++) {
          feed.fill(ft, 1);
          feed.fill(row, rb);
          int y = pass[1] + r * pass[3];
          unfilter(src, ft[0] & 0xff, row, prev, rb, bpp, y);
          for (int i = 0; i < pw; i++) {
            int x = pass[0] + i * pass[2];
            int at = off + y * w + x;
            if (hd.colourType() == 3) {
              int idx = sample(row, i, 0, 1, depth);
              if (idx >= hd.palette().length) {
                throw new DataException(src + ": PNG pixel (" + x + ", " + y + ") has palette index " + idx
                    + ", beyond the " + hd.palette().length + " entries of its PLTE chunk");
              }
              int e = hd.palette()[idx];
              if (channels == 1) {
                out[at] = Pixels.LUT[e & 0xff];
              } else {
                out[at] = Pixels.LUT[e >> 16 & 0xff];
                out[at + plane] = Pixels.LUT[e >> 8 & 0xff];
                out[at + 2 * plane] = Pixels.LUT[e & 0xff];
              }
            } else if (hd.colourType() == 0 || hd.colourType() == 4) {
              Pixels.putGrey(out, at, plane, channels, sample(row, i, 0, ns, depth) / max);
            } else {
              for (int c = 0; c < 3; c++) {
                out[at + c * plane] = sample(row, i, c, ns, depth) / max;
              }
            }
          }
          byte[] t = prev;
          prev = row;
          row = t;
        }
      }
      feed.finish();
    } finally {
      inf.end();
    }
  }

  /** Sample {@code c} of pixel {@code i} of a row of {@code ns} samples per pixel at bit depth {@code depth}. */
  private static int sample(byte[] row, int i, int c, int ns, int depth) {
    switch (depth) {
      case 8:
        return row[i * ns + c] & 0xff;
      case 16: {
        int at = 2 * (i * ns + c);
        return (row[at] & 0xff) << 8 | (row[at + 1] & 0xff);
      }
      default: { // 1, 2, 4: one sample per pixel (grey or palette), packed from the high bits
        long bit = (long) i * depth;
        int shift = 8 - depth - (int) (bit & 7);
        return (row[(int) (bit >>> 3)] >> shift) & ((1 << depth) - 1);
      }
    }
  }

  private static void unfilter(String src, int type, byte[] row, byte[] prev, int n, int bpp, int y) {
    switch (type) {
      case 0 -> { }
      case 1 -> {
        for (int i = bpp; i < n; i++) {
          row[i] += row[i - bpp];
        }
      }
      case 2 -> {
        for (int i = 0; i < n; i++) {
          row[i] += prev[i];
        }
      }
      case 3 -> {
        for (int i = 0; i < n; i++) {
          int a = i >= bpp ? row[i - bpp] & 0xff : 0;
          row[i] += (byte) ((a + (prev[i] & 0xff)) >>> 1);
        }
      }
      case 4 -> {
        for (int i = 0; i < n; i++) {
          int a = i >= bpp ? row[i - bpp] & 0xff : 0;
          int bb = prev[i] & 0xff;
          int c = i >= bpp ? prev[i - bpp] & 0xff : 0;
          int pp = a + bb - c;
          int pa = Math.abs(pp - a);
          int pb = Math.abs(pp - bb);
          int pc = Math.abs(pp - c);
          row[i] += (byte) (pa <= pb && pa <= pc ? a : pb <= pc ? bb : c);
        }
      }
      default -> throw new DataException(src + ": PNG row " + y + " has filter type " + type
          + "; expected 0 to 4");
    }
  }

  /** Feeds the IDAT chunks to the inflater and hands out exactly the bytes the header implies. */
  private static final class Feed {
    private final String src;
    private final byte[] b;
    private final List<int[]> idat;
    private final Inflater inf;
    private final long expected;
    private int next;
    private long done;

    Feed(String src, byte[] b, List<int[]> idat, Inflater inf, long expected) {
      this.src = src;
      this.b = b;
      this.idat = idat;
      this.inf = inf;
      this.expected = expected;
    }

    void fill(byte[] out, int len) {
      int got = 0;
      while (got < len) {
        int r;
        try {
          r = inf.inflate(out, got, len - got);
        } catch (DataFormatException e) {
          throw new DataException(src + ": corrupt PNG image data (zlib) after " + done + " of " + expected
              + " bytes: " + e.getMessage(), e);
        }
        got += r;
        done += r;
        if (r == 0) {
          if (inf.finished()) {
            throw new DataException(src + ": truncated PNG image data: " + done + " bytes, the IHDR ("
                + "size and format) implies " + expected);
          }
          if (inf.needsDictionary()) {
            throw new DataException(src + ": corrupt PNG image data: the zlib stream asks for a preset dictionary");
          }
          if (inf.needsInput()) {
            if (next == idat.size()) {
              throw new DataException(src + ": truncated PNG image data: the IDAT chunks end after " + done
                  + " of the " + expected + " bytes the IHDR (size and format) implies");
            }
            int[] c = idat.get(next++);
            inf.setInput(b, c[0], c[1]);
          }
        }
      }
    }

    /** Refuses image data beyond what the header implies. */
    void finish() {
      byte[] probe = new byte[1];
      while (!inf.finished()) {
        int r;
        try {
          r = inf.inflate(probe);
        } catch (DataFormatException e) {
          throw new DataException(src + ": corrupt PNG image data (zlib) at its end: " + e.getMessage(), e);
        }
        if (r > 0) {
          throw new DataException(src + ": PNG image data holds more than the " + expected + " bytes the IHDR "
              + "(size and format) implies");
        }
        if (inf.needsInput()) {
          if (next == idat.size()) {
            return; // the zlib stream lacks its end (checksum); every pixel is there
          }
          int[] c = idat.get(next++);
          inf.setInput(b, c[0], c[1]);
        } else if (inf.needsDictionary()) {
          return;
        }
      }
    }
  }

  private static long be32(byte[] b, int off) {
    return (b[off] & 0xffL) << 24 | (b[off + 1] & 0xffL) << 16 | (b[off + 2] & 0xffL) << 8 | (b[off + 3] & 0xffL);
  }

  private static String printable(String type) {
    return type.chars().allMatch(ch -> ch >= 0x21 && ch < 0x7f) ? type : "(non-ASCII type)";
  }
}
