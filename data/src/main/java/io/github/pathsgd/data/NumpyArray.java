package io.github.pathsgd.data;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One array of a NumPy {@code .npy} file (format versions 1.0, 2.0 and 3.0, as written by {@code numpy.save} and
 * inside {@code numpy.savez[_compressed]}): its shape, its element type and its values, read strictly.
 *
 * <p>The format (NumPy's {@code numpy/lib/format.py}, "NEP 1"): the magic {@code \x93NUMPY}, a major and a minor
 * version byte, a little-endian header length (2 bytes in 1.0, 4 bytes in 2.0 and 3.0), a header that is a Python
 * dict literal {@code {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }} (Latin-1 in 1.0/2.0,
 * UTF-8 in 3.0) padded with spaces to a multiple of 64 bytes and ended by a newline, then the raw data.
 *
 * <p>Accepted element types: {@code |u1 |i1 |b1}, {@code u2 i2 u4 i4 u8 i8 f2 f4 f8} in either byte order
 * ({@code <} or {@code >}; {@code =} is taken as little-endian, NumPy's own order on every platform it writes
 * from). Not accepted, each with a message that names it: object arrays, structured dtypes, strings, complex numbers,
 * datetimes, Fortran order, and any header or length that disagrees with the bytes. No library is used: the two Java
 * NPY readers on Maven Central are at version 0.0.x (org.openlca:npy) or bring the Kotlin runtime
 * (org.jetbrains.bio:npy), and neither checks a length against the bytes before allocating.
 *
 * @param source the file (and member) the array came from, for messages
 * @param kind the element kind: {@code 'u'} unsigned, {@code 'i'} signed, {@code 'b'} boolean, {@code 'f'} float
 * @param itemSize bytes per element
 * @param shape the dimensions (empty for a scalar)
 * @param data the raw values, in the file's byte order and C order
 */
public record NumpyArray(String source, char kind, int itemSize, int[] shape, ByteBuffer data) {

  /** The largest header accepted (NumPy itself writes headers of about 128 bytes; it refuses over 10,000 to read). */
  static final int MAX_HEADER = 1 << 16;

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
  private static final Pattern KEYS = Pattern.compile("'([^']*)'\\s*:");

  /** Number of elements: the product of the shape. */
  public long size() {
    long n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  /** The NumPy dtype string, e.g. {@code "<f4"} or {@code "|u1"}. */
  public String dtype() {
    return (itemSize == 1 ? "|" : data.order() == ByteOrder.LITTLE_ENDIAN ? "<" : ">") + kind + itemSize;
  }

  /** Whether the elements are integers (signed, unsigned or boolean). */
  public boolean isInteger() {
    return kind != 'f';
  }

  /** Element {@code i} as a double (exact for every accepted type except 64-bit integers beyond 2^53). */
  public double get(long i) {
    int at = Math.toIntExact(i * itemSize);
    switch (kind) {
      case 'f':
        return itemSize == 2 ? halfToFloat(data.getShort(at)) : itemSize == 4 ? data.getFloat(at)
            : data.getDouble(at);
      case 'u':
        return switch (itemSize) {
          case 1 -> data.get(at) & 0xff;
          case 2 -> data.getShort(at) & 0xffff;
          case 4 -> data.getInt(at) & 0xffffffffL;
          default -> unsigned64(data.getLong(at));
        };
      default: // 'i', 'b'
        return switch (itemSize) {
          case 1 -> data.get(at);
          case 2 -> data.getShort(at);
          case 4 -> data.getInt(at);
          default -> data.getLong(at);
        };
    }
  }

  /** Element {@code i} as a long (integer types only); an unsigned 64-bit value above 2^63−1 is refused. */
  public long getLong(long i) {
    if (!isInteger()) {
      throw new IllegalStateException(source + ": " + dtype() + " is not an integer type");
    }
    int at = Math.toIntExact(i * itemSize);
    if (itemSize == 8) {
      long v = data.getLong(at);
      if (kind == 'u' && v < 0) {
        throw new DataException(source + ": element " + i + " is " + Long.toUnsignedString(v)
            + ", beyond the range of a label");
      }
      return v;
    }
    return (long) get(i);
  }

  /** IEEE 754 binary16 to float (exact; {@code Float.float16ToFloat} exists only from Java 20). */
  static float halfToFloat(short h) {
    int sign = (h >>> 15) & 1;
    int exp = (h >>> 10) & 0x1f;
    int man = h & 0x3ff;
    float v;
    if (exp == 0) {
      v = man * 0x1p-24f; // subnormal (or zero)
    } else if (exp == 31) {
      v = man == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
    } else {
      v = Float.intBitsToFloat((exp - 15 + 127) << 23 | man << 13);
    }
    return sign == 1 ? -v : v;
  }

  private static double unsigned64(long v) {
    return v >= 0 ? v : (v >>> 1) * 2.0 + (v & 1);
  }

  /**
   * What a {@code .npy} header declares.
   *
   * @param dataStart the offset of the data: magic, version, length field and header
   * @param dataBytes the data's length: elements times item size
   */
  record Header(char kind, int itemSize, int[] shape, ByteOrder order, String descr, String dims, int dataStart,
      long dataBytes) {
    /** Number of elements: the product of the shape. */
    long size() {
      return itemSize == 0 ? 0 : dataBytes / itemSize;
    }

    /** The file's length the header implies. */
    long fileBytes() {
      return dataStart + dataBytes;
    }

    /** Refuses a file (or member) of {@code total} bytes that the header's shape does not fill exactly. */
    void requireLength(String source, long total) {
      long have = total - dataStart;
      if (have != dataBytes) {
        throw new DataException(source + ": shape (" + dims + ") of " + descr + " needs " + dataBytes
            + " data bytes, the file has " + have + (have < dataBytes ? " (truncated)" : " (trailing bytes)"));
      }
    }
  }

  /**
   * Parses one {@code .npy} image held in {@code bytes[off, off + len)}.
   *
   * @param source the file (and member) name, for messages
   * @throws DataException naming {@code source}, the field and what was expected, for anything that is not a valid
   *     array of an accepted type whose data fills exactly the rest of the bytes
   */
  public static NumpyArray parse(byte[] bytes, int off, int len, String source) {
    Header h = header(bytes, off, len, source);
    h.requireLength(source, len);
    ByteBuffer data = ByteBuffer.wrap(bytes, off + h.dataStart(), (int) h.dataBytes()).slice().order(h.order());
    return new NumpyArray(source, h.kind(), h.itemSize(), h.shape(), data);
  }

  /**
   * Reads the magic, version, length field and header of a {@code .npy} stream (at most {@link #MAX_HEADER} + 12
   * bytes) and nothing more, so that its shape can be checked before the data is read.
   */
  static byte[] readPrefix(java.io.InputStream in, String source) throws java.io.IOException {
    byte[] head = in.readNBytes(12);
    if (head.length < 10 || !Arrays.equals(head, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      return head; // header() names what is wrong
    }
    int major = head[6] & 0xff;
    long headerLen = major == 1 ? (head[8] & 0xff | (head[9] & 0xff) << 8)
        : head.length < 12 ? 0 : ByteBuffer.wrap(head, 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
    long total = (major == 1 ? 10 : 12) + headerLen;
    if (headerLen > MAX_HEADER || total <= head.length) {
      return head;
    }
    byte[] rest = in.readNBytes((int) (total - head.length));
    byte[] out = Arrays.copyOf(head, head.length + rest.length);
    System.arraycopy(rest, 0, out, head.length, rest.length);
    return out;
  }

  /**
   * Parses the header of a {@code .npy} image held in {@code bytes[off, off + len)}; the data after it is not
   * looked at (see {@link Header#requireLength}).
   */
  static Header header(byte[] bytes, int off, int len, String source) {
    ByteBuffer b = ByteBuffer.wrap(bytes, off, len).slice().order(ByteOrder.LITTLE_ENDIAN);
    if (len < MAGIC.length + 2 || !Arrays.equals(bytes, off, off + MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new DataException(source + ": not a NumPy .npy array (the file does not start with \\x93NUMPY)");
    }
    int major = bytes[off + 6] & 0xff;
    int minor = bytes[off + 7] & 0xff;
    if (major < 1 || major > 3 || minor != 0) {
      throw new DataException(source + ": .npy format version " + major + "." + minor
          + " is not supported (expected 1.0, 2.0 or 3.0)");
    }
    int lenBytes = major == 1 ? 2 : 4;
    if (len < 8 + lenBytes) {
      throw new DataException(source + ": truncated .npy header (" + len + " bytes)");
    }
    long headerLen = major == 1 ? b.getShort(8) & 0xffff : b.getInt(8) & 0xffffffffL;
    long dataStart = 8L + lenBytes + headerLen;
    if (headerLen > MAX_HEADER || dataStart > len) {
      throw new DataException(source + ": .npy header length " + headerLen + " does not fit the file's " + len
          + " bytes (at most " + MAX_HEADER + " accepted)");
    }
    String header = new String(bytes, off + 8 + lenBytes, (int) headerLen,
        major == 3 ? java.nio.charset.StandardCharsets.UTF_8 : java.nio.charset.StandardCharsets.ISO_8859_1).trim();
    if (!header.startsWith("{") || !header.endsWith("}")) {
      throw new DataException(source + ": .npy header is not a dict literal: " + abbreviate(header));
    }
    Matcher keys = KEYS.matcher(header);
    int count = 0;
    while (keys.find()) {
      String k = keys.group(1);
      if (!k.equals("descr") && !k.equals("fortran_order") && !k.equals("shape")) {
        throw new DataException(source + ": .npy header has the unknown key '" + k
            + "' (expected descr, fortran_order, shape)");
      }
      count++;
    }
    Matcher d = DESCR.matcher(header);
    Matcher f = FORTRAN.matcher(header);
    Matcher s = SHAPE.matcher(header);
    if (count != 3 || !d.find() || !f.find() || !s.find()) {
      throw new DataException(source + ": .npy header must hold exactly 'descr' (a simple type string), "
          + "'fortran_order' and 'shape', got " + abbreviate(header));
    }
    if (f.group(1).equals("True")) {
      throw new DataException(source + ": field fortran_order is True; only C-order arrays are read "
          + "(save with numpy.ascontiguousarray)");
    }
    String descr = d.group(1);
    if (descr.length() < 3) {
      throw new DataException(source + ": field descr '" + descr + "' is not a NumPy type string");
    }
    char order = descr.charAt(0);
    char kind = descr.charAt(1);
    int itemSize;
    try {
      itemSize = Integer.parseInt(descr.substring(2));
    } catch (NumberFormatException e) {
      throw new DataException(source + ": field descr '" + descr + "' is not a NumPy type string");
    }
    boolean ok = switch (kind) {
      case 'u', 'i' -> itemSize == 1 || itemSize == 2 || itemSize == 4 || itemSize == 8;
      case 'b' -> itemSize == 1;
      case 'f' -> itemSize == 2 || itemSize == 4 || itemSize == 8;
      default -> false;
    };
    if (!ok || "<>|=".indexOf(order) < 0 || order == '|' && itemSize != 1) {
      throw new DataException(source + ": field descr '" + descr + "' is not supported (expected an integer, "
          + "boolean or float type: |u1, |i1, |b1, <u2..<u8, <i2..<i8, <f2, <f4, <f8 or their '>' forms)");
    }
    String dims = s.group(1).trim();
    int[] shape;
    if (dims.isEmpty()) {
      shape = new int[0];
    } else {
      String[] parts = dims.split(",", -1);
      int n = parts.length - (parts[parts.length - 1].trim().isEmpty() ? 1 : 0);
      shape = new int[n];
      for (int i = 0; i < n; i++) {
        String p = parts[i].trim().toUpperCase(Locale.ROOT).replace("L", "");
        try {
          long v = Long.parseLong(p);
          if (v < 0 || v > Integer.MAX_VALUE) {
            throw new NumberFormatException();
          }
          shape[i] = (int) v;
        } catch (NumberFormatException e) {
          throw new DataException(source + ": field shape (" + dims + "): dimension " + i + " '" + parts[i].trim()
              + "' is not a count from 0 to " + Integer.MAX_VALUE);
        }
      }
    }
    long elements = 1;
    for (int v : shape) {
      elements = Math.multiplyExact(elements, v);
      if (elements > Integer.MAX_VALUE) {
        throw new DataException(source + ": field shape (" + dims + ") has more than " + Integer.MAX_VALUE
            + " elements");
      }
    }
    return new Header(kind, itemSize, shape, order == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN, descr,
        dims, (int) dataStart, elements * itemSize);
  }

  private static String abbreviate(String s) {
    return s.length() <= 120 ? s : s.substring(0, 117) + "...";
  }

  @Override
  public String toString() {
    return source + " " + dtype() + " " + Arrays.toString(shape);
  }
}
