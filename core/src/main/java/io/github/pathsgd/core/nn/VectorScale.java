package io.github.pathsgd.core.nn;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The row scaling of {@link RankOne#scaleRowsBy} with SIMD (the JDK's incubating Vector API), straight on the direct
 * buffers: one pass, no copy, each product in double and rounded to float once. Used only when the JVM runs with
 * {@code --add-modules jdk.incubator.vector} (the {@code pathsgd} launcher and the test runner do); otherwise {@link
 * RankOne} copies the matrix to an array and loops, with the same result. Nothing outside {@link RankOne} touches this
 * class, so without the module it is never loaded.
 */
final class VectorScale {
  /** Doubles of the preferred shape, and floats of half that shape: as many float lanes as double lanes. */
  private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Float> H = VectorSpecies.of(float.class,
      VectorShape.forBitSize(Math.max(64, D.vectorBitSize() / 2)));
  private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

  private VectorScale() {}

  /** Whether the vector form exists here (a float lane per double lane); else {@link RankOne} loops. */
  static boolean doubleKernel() {
    return H.length() == D.length();
  }

  /**
   * out[b, n] = (float) (x[b, n] · s[n]) for b &lt; B, n &lt; N: x widened to double, the product in double, rounded
   * to float once.
   *
   * <pre>
   * x, out are (B, N) row-major floats from byte 0; s is (N)
   * </pre>
   */
  static void scaleRowsDouble(ByteBuffer x, ByteBuffer out, int B, int N, double[] s) {
    int lanes = D.length();
    int bound = N - N % lanes;
    for (int b = 0; b < B; b++) {
      int row = 4 * b * N;
      int i = 0;
      for (; i < bound; i += lanes) {
        DoubleVector v = (DoubleVector) FloatVector.fromByteBuffer(H, x, row + 4 * i, NATIVE)
            .convertShape(VectorOperators.F2D, D, 0);
        ((FloatVector) v.mul(DoubleVector.fromArray(D, s, i)).convertShape(VectorOperators.D2F, H, 0))
            .intoByteBuffer(out, row + 4 * i, NATIVE);
      }
      for (; i < N; i++) {
        out.putFloat(row + 4 * i, (float) (x.getFloat(row + 4 * i) * s[i]));
      }
    }
  }
}
