package io.github.pathsgd.core.nn;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The row scaling of {@link RankOne#scaleRowsBy} with SIMD (the JDK's incubating Vector API), straight on the direct
 * buffers: one pass, no copy. Used only when the JVM runs with {@code --add-modules jdk.incubator.vector} (the {@code
 * pathsgd} launcher and the test runner do); otherwise {@link Layers} copies the matrix to an array and lets the JIT
 * vectorize the loop, with the same result. Nothing outside {@link Layers} touches this class, so without the module it
 * is never loaded.
 */
final class VectorScale {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

  private VectorScale() {}

  /**
   * out[b, n] = x[b, n] · s[n] for b &lt; B, n &lt; N, in float.
   *
   * <pre>
   * x, out are (B, N) row-major floats from byte 0; s is (N)
   * </pre>
   */
  static void scaleRows(ByteBuffer x, ByteBuffer out, int B, int N, float[] s) {
    int bound = S.loopBound(N);
    for (int b = 0; b < B; b++) {
      int row = 4 * b * N;
      int i = 0;
      for (; i < bound; i += S.length()) {
        FloatVector.fromByteBuffer(S, x, row + 4 * i, NATIVE).mul(FloatVector.fromArray(S, s, i))
            .intoByteBuffer(out, row + 4 * i, NATIVE);
      }
      for (; i < N; i++) {
        out.putFloat(row + 4 * i, x.getFloat(row + 4 * i) * s[i]);
      }
    }
  }
}
