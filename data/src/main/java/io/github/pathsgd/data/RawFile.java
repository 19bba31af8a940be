package io.github.pathsgd.data;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * The decompressed content of one data file, with the SHA-256 of the bytes as stored (compressed or not).
 *
 * <p>Whether a file is gzip-compressed is decided by its first two bytes (the gzip magic {@code 1f 8b}), never by its
 * name; a name ending in {@code .gz} on data that is not gzip is an error. Decompression is incremental with a hard
 * cap derived from the compressed size (deflate cannot expand by more than about 1032:1), so no header field of any
 * format can make the reader allocate more than the data really holds.
 *
 * @param source the file path or {@code classpath:} name, for messages and provenance
 * @param data the decompressed bytes
 * @param storedSize the size of the file as stored
 * @param sha256 lowercase hex SHA-256 of the stored bytes
 * @param gzip whether the stored bytes were gzip
 */
record RawFile(String source, byte[] data, long storedSize, String sha256, boolean gzip) {
  /** Largest array Java can allocate safely. */
  static final int MAX_ARRAY = Integer.MAX_VALUE - 16;

  /** Reads and, if gzip, decompresses a file. */
  static RawFile read(Path path) {
    String source = path.toString();
    long size;
    try {
      size = Files.size(path);
    } catch (NoSuchFileException e) {
      throw new DataException(source + ": file not found");
    } catch (IOException e) {
      throw new DataException(source + ": cannot read file: " + e, e);
    }
    if (Files.isDirectory(path)) {
      throw new DataException(source + ": is a directory, expected a data file");
    }
    if (size > MAX_ARRAY) {
      throw new DataException(source + ": file has " + size + " bytes, more than the " + MAX_ARRAY
          + " bytes this reader supports");
    }
    byte[] stored;
    try {
      stored = Files.readAllBytes(path);
    } catch (IOException e) {
      throw new DataException(source + ": cannot read file: " + e, e);
    } catch (OutOfMemoryError e) {
      throw new DataException(source + ": not enough memory to read " + size + " bytes", e);
    }
    return of(source, stored);
  }

  /** Reads a classpath resource (decompressing if gzip). */
  static RawFile resource(Class<?> anchor, String name) {
    String source = "classpath:" + name;
    try (InputStream in = anchor.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new DataException(source + ": resource not found on the classpath");
      }
      return of(source, in.readAllBytes());
    } catch (IOException e) {
      throw new DataException(source + ": cannot read resource: " + e, e);
    }
  }

  /** Interprets stored bytes: gzip by magic, otherwise raw. */
  static RawFile of(String source, byte[] stored) {
    String sha = Checksums.sha256Hex(stored);
    boolean isGzip = stored.length >= 2 && (stored[0] & 0xFF) == 0x1f && (stored[1] & 0xFF) == 0x8b;
    if (!isGzip) {
      if (source.toLowerCase(java.util.Locale.ROOT).endsWith(".gz")) {
        throw new DataException(source + ": name ends in .gz but the data is not gzip (bytes 0-1 are "
            + (stored.length >= 2 ? String.format("%02x %02x", stored[0] & 0xFF, stored[1] & 0xFF) : "missing")
            + ", expected the gzip magic 1f 8b)");
      }
      return new RawFile(source, stored, stored.length, sha, false);
    }
    return new RawFile(source, gunzip(source, stored), stored.length, sha, true);
  }

  /** Decompresses all gzip members, incrementally, failing beyond a cap set by the compressed size. */
  static byte[] gunzip(String source, byte[] stored) {
    long cap = Math.min((long) MAX_ARRAY, stored.length * 1032L + 65536L);
    // ISIZE trailer (uncompressed size mod 2^32) is only a hint for the first buffer, capped
    long hint = 0;
    if (stored.length >= 18) {
      int n = stored.length;
      hint = (stored[n - 4] & 0xFFL) | (stored[n - 3] & 0xFFL) << 8 | (stored[n - 2] & 0xFFL) << 16
          | (stored[n - 1] & 0xFFL) << 24;
    }
    int initial = (int) Math.max(1024, Math.min(Math.min(hint, cap), stored.length * 8L + 65536L));
    if (hint > initial && hint <= cap) {
      initial = (int) hint;
    }
    byte[] buf = new byte[initial];
    int len = 0;
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(stored), 1 << 16)) {
      while (true) {
        if (len == buf.length) {
          int probe = in.read(); // full buffer (the usual case when ISIZE was right): at the end?
          if (probe < 0) {
            break;
          }
          if (buf.length >= cap) {
            throw new DataException(source + ": gzip data expands beyond " + cap + " bytes (the most "
                + stored.length + " compressed bytes can hold); the file is corrupt");
          }
          buf = Arrays.copyOf(buf, (int) Math.min(cap, Math.max(buf.length * 2L, 1024)));
          buf[len++] = (byte) probe;
          continue;
        }
        int r = in.read(buf, len, buf.length - len);
        if (r < 0) {
          break;
        }
        len += r;
      }
    } catch (java.io.EOFException e) {
      throw new DataException(source + ": gzip stream truncated after " + len
          + " decompressed bytes (unexpected end of the compressed data)", e);
    } catch (IOException e) {
      throw new DataException(source + ": corrupt gzip data after " + len + " decompressed bytes: " + e.getMessage(),
          e);
    } catch (OutOfMemoryError e) {
      throw new DataException(source + ": not enough memory to decompress", e);
    }
    return len == buf.length ? buf : Arrays.copyOf(buf, len);
  }

  /** Big-endian 32-bit int at {@code off}. */
  int intAt(int off) {
    return (data[off] & 0xFF) << 24 | (data[off + 1] & 0xFF) << 16 | (data[off + 2] & 0xFF) << 8 | (data[off + 3] & 0xFF);
  }
}
