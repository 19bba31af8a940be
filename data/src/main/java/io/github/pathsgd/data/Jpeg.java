package io.github.pathsgd.data;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * JPEG files of an image folder: the structure is checked here (markers from SOI to EOI, the frame header's size
 * and component count: 8-bit samples, 1 or 3 components; CMYK and 12-bit JPEGs are refused), the pixels are decoded by the JDK's JPEG reader (libjpeg: YCbCr to RGB as JFIF defines it)
 * and taken from its raster as stored, 8-bit samples divided by 255, with no further colour conversion. A file
 * whose entropy-coded data stops before the EOI marker (a cut file) or that makes the decoder warn (corrupt data)
 * is refused.
 */
final class Jpeg {
  private Jpeg() {}

  /** What the frame header (SOFn) declares. */
  record Header(int width, int height, int components) {}

  /** Whether {@code b} starts with a JPEG SOI marker and a marker after it ({@code ff d8 ff}). */
  static boolean is(byte[] b) {
    return b.length >= 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff;
  }

  /** Walks the markers from SOI to EOI and returns the frame header. */
  static Header header(String src, byte[] b) {
    int p = 2;
    Header frame = null;
    boolean scan = false;
    while (true) {
      if (p >= b.length) {
        throw new DataException(src + ": truncated JPEG: the file ends at byte offset " + b.length + " before its "
            + "EOI marker (ff d9)" + (scan ? " inside the compressed image data" : ""));
      }
      if ((b[p] & 0xff) != 0xff) {
        if (!scan) {
          throw new DataException(src + ": corrupt JPEG: expected a marker (ff ..) at byte offset " + p);
        }
        p++; // entropy-coded data
        continue;
      }
      if (p + 1 >= b.length) {
        p++;
        continue; // reported as truncated above
      }
      int m = b[p + 1] & 0xff;
      if (m == 0xff) {
        p++; // fill byte
        continue;
      }
      if (scan && (m == 0x00 || m >= 0xd0 && m <= 0xd7)) {
        p += 2; // stuffed ff 00, or a restart marker, inside the entropy-coded data
        continue;
      }
      if (m == 0xd9) {
        if (frame == null || !scan) {
          throw new DataException(src + ": corrupt JPEG: EOI marker at byte offset " + p + " before any "
              + (frame == null ? "frame header" : "image data"));
        }
        return frame;
      }
      if (m == 0x01 || m >= 0xd0 && m <= 0xd8) {
        p += 2; // markers without a length
        continue;
      }
      if (p + 4 > b.length) {
        p = b.length;
        continue;
      }
      int len = (b[p + 2] & 0xff) << 8 | (b[p + 3] & 0xff);
      if (len < 2 || p + 2 + len > b.length) {
        throw new DataException(src + ": truncated JPEG: segment ff " + String.format("%02x", m) + " at byte offset "
            + p + " declares " + len + " bytes, the file has " + (b.length - p - 2) + " left");
      }
      boolean sof = m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
      if (sof) {
        if (len < 8 || frame != null) {
          throw new DataException(src + ": corrupt JPEG: frame header at byte offset " + p
              + (frame != null ? " is the second one" : " has " + len + " bytes"));
        }
        int precision = b[p + 4] & 0xff;
        int h = (b[p + 5] & 0xff) << 8 | (b[p + 6] & 0xff);
        int w = (b[p + 7] & 0xff) << 8 | (b[p + 8] & 0xff);
        int nc = b[p + 9] & 0xff;
        if (precision != 8 || h == 0 || w == 0 || (nc != 1 && nc != 3)) {
          throw new DataException(src + ": JPEG frame of " + w + " x " + h + " pixels, " + nc + " components of "
              + precision + " bits; expected 8-bit grey (1 component) or colour (3 components) with a known size");
        }
        frame = new Header(w, h, nc);
      }
      if (m == 0xda) {
        if (frame == null) {
          throw new DataException(src + ": corrupt JPEG: scan (SOS) at byte offset " + p + " before the frame header");
        }
        scan = true;
      }
      p += 2 + len;
    }
  }

  /**
   * Decodes into {@code out[off ..]} as {@code channels} CHW planes (a grey image's value repeated in each of 3).
   */
  static void decode(String src, byte[] b, Header hd, float[] out, int off, int channels) {
    List<String> warnings = new ArrayList<>();
    BufferedImage img;
    try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(b))) {
      Iterator<ImageReader> it = ImageIO.getImageReadersByFormatName("jpeg");
      if (!it.hasNext()) {
        throw new DataException(src + ": this JVM has no JPEG decoder");
      }
      ImageReader r = it.next();
      try {
        r.setInput(in, true, true);
        r.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
        img = r.read(0);
      } finally {
        r.dispose();
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof DataException d) {
        throw d;
      }
      throw new DataException(src + ": cannot decode the JPEG image: " + message(e), e);
    }
    if (!warnings.isEmpty()) {
      throw new DataException(src + ": corrupt JPEG data: " + warnings.get(0));
    }
    Raster ras = img.getRaster();
    if (ras.getWidth() != hd.width() || ras.getHeight() != hd.height() || ras.getNumBands() != hd.components()) {
      throw new DataException(src + ": the JPEG decoder gave " + ras.getWidth() + " x " + ras.getHeight() + " x "
          + ras.getNumBands() + " samples; the frame header declares " + hd.width() + " x " + hd.height() + " x "
          + hd.components());
    }
    int w = hd.width();
    int plane = w * hd.height();
    int[] px = new int[w * hd.components()];
    for (int y = 0; y < hd.height(); y++) {
      ras.getPixels(0, y, w, 1, px);
      for (int x = 0; x < w; x++) {
        int at = off + y * w + x;
        if (hd.components() == 1) {
          Pixels.putGrey(out, at, plane, channels, Pixels.LUT[px[x] & 0xff]);
        } else {
          for (int c = 0; c < 3; c++) {
            out[at + c * plane] = Pixels.LUT[px[3 * x + c] & 0xff];
          }
        }
      }
    }
  }

  static String message(Throwable e) {
    return e.getMessage() == null || e.getMessage().isBlank() ? "no details given by the decoder" : e.getMessage();
  }
}
