package io.github.pathsgd.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The decompressed content of one data file, with the SHA-256 of the bytes as stored (compressed or not).
 *
 * <p>Whether a file is gzip-compressed is decided by its first two bytes (the gzip magic {@code 1f 8b}), never by its
 * name; a name ending in {@code .gz} on data that is not gzip is an error. A file must be a regular file (see
 * {@link InputFiles}); a FIFO or device is never opened.
 *
 * <p>Decompression is bounded before anything large is allocated, by the smallest of:
 * <ul>
 *   <li>what the format's header declares ({@link SizeRule}: an IDX header gives the count and the image size), or,
 *       for formats without a header, what the gzip size trailer (the file's last 4 bytes, ISIZE) declares;</li>
 *   <li>what deflate can produce from the compressed size (at most about 1032:1);</li>
 *   <li>the largest Java array ({@link #MAX_ARRAY} bytes) and the JVM's maximum heap.</li>
 * </ul>
 * A declared size beyond the last two is refused at once; data that inflates beyond the declared size is refused
 * the moment the first extra byte appears, so a gzip bomb costs at most the declared size in memory. The gzip
 * member must end exactly at the end of the file: its CRC-32 and ISIZE trailer are checked, trailing bytes are an
 * error, and so is a second gzip member (concatenated members, as {@code cat a.gz b.gz} makes them, are not
 * supported: no published data file uses them, and refusing them keeps the trailer a true size bound).
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
  /** Deflate's largest expansion (258-byte matches coded in about 2 bits, plus block overhead). */
  static final long MAX_RATIO = 1032;

  /** What a format's header declares about the (decompressed) length of a file. */
  interface SizeRule {
    /** Bytes of header needed to decide. */
    int headerBytes();

    /**
     * The length the header declares, or {@code null} when the header does not say.
     *
     * @param head the first {@link #headerBytes()} (decompressed) bytes
     * @throws DataException for a header that is wrong in itself (bad magic number, negative count)
     */
    Declared declared(String source, byte[] head);
  }

  /**
   * A declared length.
   *
   * @param size the total length in bytes, header included
   * @param what who declares it, for messages: e.g. {@code "IDX image header (count 5 at offset 4, 28 x 28)"}
   */
  record Declared(long size, String what) {}

  /** Reads and, if gzip, decompresses a file (no header rule). */
  static RawFile read(Path path) {
    return read(path, null);
  }

  /** Reads and, if gzip, decompresses a file, bounded by what {@code rule} (may be null) finds in its header. */
  static RawFile read(Path path, SizeRule rule) {
    String source = path.toString();
    String problem = InputFiles.problem(path);
    if (problem != null) {
      throw new DataException(source + ": " + problem);
    }
    long size;
    try {
      size = Files.size(path);
    } catch (IOException e) {
      throw new DataException(source + ": cannot read file: " + InputFiles.reason(e), e);
    }
    if (size > MAX_ARRAY) {
      throw new DataException(source + ": file has " + size + " bytes, more than the " + MAX_ARRAY
          + " bytes this reader supports");
    }
    requireHeap(source, size, "the file's " + size + " bytes");
    byte[] stored;
    try {
      stored = Files.readAllBytes(path);
    } catch (IOException e) {
      throw new DataException(source + ": cannot read file: " + InputFiles.reason(e), e);
    } catch (OutOfMemoryError e) {
      throw new DataException(source + ": not enough memory to read " + size + " bytes (raise the heap limit: -Xmx, "
          + "or PATHSGD_JAVA_OPTS for the pathsgd script)", e);
    }
    return of(source, stored, rule);
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
      throw new DataException(source + ": cannot read resource: " + InputFiles.reason(e), e);
    }
  }

  /** Interprets stored bytes: gzip by magic, otherwise raw (no header rule). */
  static RawFile of(String source, byte[] stored) {
    return of(source, stored, null);
  }

  /** Interprets stored bytes: gzip by magic, otherwise raw; gzip is bounded by {@code rule} (may be null). */
  static RawFile of(String source, byte[] stored, SizeRule rule) {
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
    return new RawFile(source, gunzip(source, stored, rule), stored.length, sha, true);
  }

  /** Decompresses one gzip member without a header rule (see {@link #gunzip(String, byte[], SizeRule)}). */
  static byte[] gunzip(String source, byte[] stored) {
    return gunzip(source, stored, null);
  }

  /**
   * Decompresses exactly one gzip member that must end at the end of {@code stored}, bounded as the class comment
   * says.
   */
  static byte[] gunzip(String source, byte[] stored, SizeRule rule) {
    int off = gzipHeaderEnd(source, stored);
    long fits = Math.min(MAX_ARRAY, (stored.length - off) * MAX_RATIO + 1024);
    // the last 4 bytes: ISIZE of the member if the file ends with it (checked after decompressing)
    long tail = stored.length - off >= 8 ? le32(stored, stored.length - 4) : -1;
    Inflater inf = new Inflater(true);
    try {
      inf.setInput(stored, off, stored.length - off);
      byte[] head = new byte[rule == null ? 0 : rule.headerBytes()];
      int got = inflate(source, inf, head, 0, head.length);
      Declared d = null;
      if (got == head.length && rule != null) {
        d = rule.declared(source, head); // throws for a bad magic number before anything more is inflated
      }
      long limit;
      String why;
      if (d != null) {
        limit = d.size();
        why = "the " + d.what() + " implies " + d.size() + " bytes";
        if (limit > fits) {
          throw new DataException(source + ": " + why + ", more than " + (fits == MAX_ARRAY ? "the " + MAX_ARRAY
              + " bytes this reader supports" : "the " + fits + " bytes " + stored.length + " gzip bytes can hold")
              + " (truncated file or corrupt header)");
        }
      } else if (tail < 0) { // too short for a trailer: the inflater or the trailer check says truncated
        limit = fits;
        why = "the compressed size allows " + fits + " bytes";
      } else {
        limit = Math.max(tail, got);
        why = "the gzip size trailer (the file's last 4 bytes) declares " + tail + " decompressed bytes";
        if (limit > fits) {
          throw new DataException(source + ": " + why + ", more than " + (fits == MAX_ARRAY ? "the " + MAX_ARRAY
              + " bytes this reader supports" : "the " + fits + " bytes " + stored.length + " gzip bytes can hold")
              + " (corrupt, truncated, or trailing data after the gzip data)");
        }
      }
      requireHeap(source, limit, "the " + limit + " decompressed bytes (" + why + ")");
      // one allocation when the trailer agrees with the limit (every honest file) or the data compresses less than
      // 16:1 (all the published sets); else grow with the data, up to the limit, so that a size field that lies
      // costs no memory the data does not really fill
      long guess = Math.min(limit, stored.length * 16L + (1 << 20));
      long first = tail == limit ? limit : tail >= got && tail <= guess ? tail : guess;
      byte[] buf = new byte[(int) Math.max(first, got)];
      System.arraycopy(head, 0, buf, 0, got);
      int len = got;
      while (!inf.finished() && len < limit) {
        if (len == buf.length) {
          buf = Arrays.copyOf(buf, (int) Math.min(limit, Math.max(buf.length * 2L, 1024)));
        }
        int r = inflate(source, inf, buf, len, buf.length - len);
        if (r == 0) {
          break; // finished
        }
        len += r;
      }
      if (!inf.finished()) {
        byte[] probe = new byte[1];
        if (inflate(source, inf, probe, 0, 1) > 0) {
          throw new DataException(source + ": gzip data decompresses to more than " + limit + " bytes, but " + why
              + (d == null ? " (corrupt, or trailing data after the gzip data; data of 4 GiB or more is not "
              + "supported)" : " (trailing data)"));
        }
      }
      int rem = inf.getRemaining();
      int trailer = stored.length - rem;
      if (rem < 8) {
        throw new DataException(source + ": gzip stream truncated: the 8-byte trailer (CRC-32, size) after the "
            + "compressed data has " + rem + " bytes, at byte offset " + trailer);
      }
      CRC32 crc = new CRC32();
      crc.update(buf, 0, len);
      if (crc.getValue() != le32(stored, trailer)) {
        throw new DataException(source + String.format(": gzip CRC-32 mismatch: the trailer at byte offset %d says "
            + "%08x, the decompressed data has %08x (corrupt data)", trailer, le32(stored, trailer), crc.getValue()));
      }
      long isize = le32(stored, trailer + 4);
      if (isize != (len & 0xFFFFFFFFL)) {
        throw new DataException(source + ": gzip size trailer at byte offset " + (trailer + 4) + " says " + isize
            + " bytes, the decompressed data has " + len + " (corrupt data)");
      }
      int after = trailer + 8;
      if (after < stored.length) {
        if (stored.length - after >= 2 && (stored[after] & 0xFF) == 0x1f && (stored[after + 1] & 0xFF) == 0x8b) {
          throw new DataException(source + ": a second gzip member starts at byte offset " + after
              + "; concatenated gzip members are not supported (recompress as one: gunzip -c FILE | gzip > NEW)");
        }
        throw new DataException(source + ": " + (stored.length - after) + " bytes of trailing data after the end of "
            + "the gzip data at byte offset " + after + ", expected the end of the file (corrupt file)");
      }
      return len == buf.length ? buf : Arrays.copyOf(buf, len);
    } catch (OutOfMemoryError e) {
      throw new DataException(source + ": not enough memory to decompress (raise the heap limit: -Xmx, or "
          + "PATHSGD_JAVA_OPTS for the pathsgd script)", e);
    } finally {
      inf.end();
    }
  }

  /**
   * Inflates until {@code len} bytes are out or the stream ends; returns the count (fewer only at the end).
   *
   * @throws DataException for corrupt or truncated deflate data
   */
  private static int inflate(String source, Inflater inf, byte[] out, int off, int len) {
    int done = 0;
    int idle = 0;
    while (done < len && !inf.finished()) {
      int r;
      try {
        r = inf.inflate(out, off + done, len - done);
      } catch (DataFormatException e) {
        throw new DataException(source + ": corrupt gzip data after " + (inf.getBytesWritten())
            + " decompressed bytes: " + e.getMessage(), e);
      }
      done += r;
      if (r == 0) {
        if (inf.finished()) {
          break;
        }
        if (inf.needsDictionary()) {
          throw new DataException(source + ": corrupt gzip data: the deflate stream asks for a preset dictionary");
        }
        if (inf.needsInput()) {
          throw new DataException(source + ": gzip stream truncated after " + inf.getBytesWritten()
              + " decompressed bytes (unexpected end of the compressed data)");
        }
        if (++idle > 1000) {
          throw new DataException(source + ": corrupt gzip data: no progress after " + inf.getBytesWritten()
              + " decompressed bytes");
        }
      }
    }
    return done;
  }

  /** Checks a gzip member header (RFC 1952) and returns the offset of the deflate data. */
  static int gzipHeaderEnd(String source, byte[] b) {
    if (b.length < 10) {
      throw new DataException(source + ": gzip header truncated: " + b.length + " bytes, expected at least 10");
    }
    if ((b[2] & 0xFF) != 8) {
      throw new DataException(source + ": gzip compression method at byte offset 2 is " + (b[2] & 0xFF)
          + ", expected 8 (deflate)");
    }
    int flg = b[3] & 0xFF;
    if ((flg & 0xE0) != 0) {
      throw new DataException(source + String.format(": gzip header flags at byte offset 3 are 0x%02x; reserved "
          + "bits 5-7 must be 0 (corrupt header)", flg));
    }
    int p = 10;
    if ((flg & 4) != 0) { // FEXTRA
      if (p + 2 > b.length) {
        throw new DataException(source + ": gzip header truncated in its extra field");
      }
      p += 2 + ((b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8);
    }
    for (int bit : new int[] {8, 16}) { // FNAME, FCOMMENT: zero-terminated
      if ((flg & bit) != 0) {
        while (p < b.length && b[p] != 0) {
          p++;
        }
        p++;
      }
    }
    if ((flg & 2) != 0) { // FHCRC
      p += 2;
    }
    if (p > b.length) {
      throw new DataException(source + ": gzip header truncated: its fields run past the end of the file ("
          + b.length + " bytes)");
    }
    return p;
  }

  /** Little-endian unsigned 32-bit value at {@code off}. */
  private static long le32(byte[] b, int off) {
    return (b[off] & 0xFFL) | (b[off + 1] & 0xFFL) << 8 | (b[off + 2] & 0xFFL) << 16 | (b[off + 3] & 0xFFL) << 24;
  }

  /** Refuses an allocation of {@code bytes} that can never fit this JVM's heap, before trying it. */
  static void requireHeap(String source, long bytes, String what) {
    long max = Runtime.getRuntime().maxMemory();
    if (max != Long.MAX_VALUE && bytes > max) {
      throw new DataException(source + ": " + what + " need more memory than this JVM's maximum heap of " + max
          + " bytes (raise the heap limit: -Xmx, or PATHSGD_JAVA_OPTS for the pathsgd script)");
    }
  }

  /** Big-endian 32-bit int at {@code off}. */
  int intAt(int off) {
    return (data[off] & 0xFF) << 24 | (data[off + 1] & 0xFF) << 16 | (data[off + 2] & 0xFF) << 8 | (data[off + 3] & 0xFF);
  }
}
