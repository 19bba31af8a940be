package io.github.pathsgd.core.path;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The p = 2 row kernel of Path-SGD's κ with SIMD (the JDK's incubating Vector API). It reads the weights straight
 * from their direct buffer (no copy) and does the squares, the γ_out accumulation and the γ_in dot product in one
 * pass of vector instructions.
 *
 * <p>Used only when the JVM runs with {@code --add-modules jdk.incubator.vector} (the {@code pathsgd} launcher and the
 * test runner do); otherwise {@link PathSgd} uses its scalar loops, which compute the same values up to float
 * rounding. Nothing outside {@link PathSgd} touches this class, so without the module it is never loaded.
 */
final class VectorKappa {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

  private VectorKappa() {}

  /**
   * Rows [from, to) of W (row-major, {@code in} floats per row, starting at float {@code wOff} of {@code w}):
   * {@code dot[o] = Σ_i w[o,i]² a[i]} and, when {@code g} is not null, {@code acc[i] += Σ_o w[o,i]² g[o]}.
   */
  static void rows(ByteBuffer w, int wOff, int in, int from, int to, float[] a, double[] g, double[] dot,
      float[] acc) {
    int bound = S.loopBound(in);
    int lanes = S.length();
    for (int o = from; o < to; o++) {
      long rowByte = 4L * (wOff + (long) o * in);
      FloatVector sum = FloatVector.zero(S);
      float go = g == null ? 0f : (float) g[o];
      FloatVector gov = FloatVector.broadcast(S, go);
      int i = 0;
      for (; i < bound; i += lanes) {
        FloatVector x = FloatVector.fromByteBuffer(S, w, (int) (rowByte + 4L * i), ByteOrder.nativeOrder());
        FloatVector sq = x.mul(x);
        sum = sq.fma(FloatVector.fromArray(S, a, i), sum);
        if (g != null) {
          sq.fma(gov, FloatVector.fromArray(S, acc, i)).intoArray(acc, i);
        }
      }
      double d = sum.reduceLanes(VectorOperators.ADD);
      for (; i < in; i++) {
        float x = w.getFloat((int) (rowByte + 4L * i));
        float sq = x * x;
        d += (double) sq * a[i];
        if (g != null) {
          acc[i] += sq * go;
        }
      }
      dot[o] = d;
    }
  }
}
