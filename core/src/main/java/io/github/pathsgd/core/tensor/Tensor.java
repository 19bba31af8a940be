package io.github.pathsgd.core.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * A flat float32 buffer in off-heap (direct) memory, in native byte order.
 *
 * <p>The same memory is visible to Java as a {@link FloatBuffer} (absolute {@code get}/{@code put}) and to OpenBLAS
 * as a {@link FloatPointer}, so a GEMM call never copies. Shapes are not stored: the code that uses a tensor says its
 * shape in a comment, llm.c style ({@code // x is (B, in)}). All layouts are row-major.
 */
public final class Tensor {
  private final ByteBuffer bytes;
  private final FloatBuffer buf;
  private final FloatPointer[] ptrs = new FloatPointer[3];
  private final int size;

  /** Allocates {@code size} zero floats. */
  public Tensor(int size) {
    if (size < 0) {
      throw new IllegalArgumentException("tensor size must be >= 0, got " + size);
    }
    this.size = size;
    this.bytes = ByteBuffer.allocateDirect(Math.max(1, size) * Float.BYTES).order(ByteOrder.nativeOrder());
    this.buf = bytes.asFloatBuffer();
    FloatPointer base = new FloatPointer(buf);
    for (int i = 0; i < ptrs.length; i++) {
      ptrs[i] = new FloatPointer(base);
    }
  }

  /** A tensor holding a copy of {@code values}. */
  public static Tensor of(float... values) {
    Tensor t = new Tensor(values.length);
    t.buf.put(0, values);
    return t;
  }

  /** Number of floats. */
  public int size() {
    return size;
  }

  /** The same memory as bytes (native order), for SIMD loads; use absolute offsets only (float i at 4·i). */
  public ByteBuffer bytes() {
    return bytes;
  }

  /** The Java view of the memory; use absolute get/put only (its position is never moved). */
  public FloatBuffer buffer() {
    return buf;
  }

  /**
   * A pointer for OpenBLAS, positioned at element {@code offset}. There is one pointer object per argument slot (0, 1,
   * 2), so one call may pass the same tensor as several arguments. A tensor belongs to one thread at a time.
   */
  FloatPointer pointer(int slot, long offset) {
    return ptrs[slot].position(offset);
  }

  public float get(int i) {
    return buf.get(i);
  }

  public void set(int i, float v) {
    buf.put(i, v);
  }

  public void fill(float v) {
    for (int i = 0; i < size; i++) {
      buf.put(i, v);
    }
  }

  /** Fills {@code [from, from+len)} with {@code v}. */
  public void fill(int from, int len, float v) {
    for (int i = from, end = from + len; i < end; i++) {
      buf.put(i, v);
    }
  }

  /** Copies all of {@code src} (same size) into this tensor. */
  public void copyFrom(Tensor src) {
    if (src.size != size) {
      throw new IllegalArgumentException("size mismatch: " + src.size + " vs " + size);
    }
    buf.put(0, src.buf, 0, size);
  }

  /** Copies {@code len} floats from {@code src[srcOff..]} into {@code this[dstOff..]}. */
  public void copyFrom(float[] src, int srcOff, int dstOff, int len) {
    buf.put(dstOff, src, srcOff, len);
  }

  /** A heap copy of the contents. */
  public float[] toArray() {
    float[] out = new float[size];
    buf.get(0, out);
    return out;
  }

  /** A heap copy of {@code [from, from+len)}. */
  public float[] toArray(int from, int len) {
    float[] out = new float[len];
    buf.get(from, out, 0, len);
    return out;
  }

  /** A new tensor with the same contents. */
  public Tensor copy() {
    Tensor t = new Tensor(size);
    t.copyFrom(this);
    return t;
  }
}
