package io.github.pathsgd.core.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;
import org.bytedeco.openblas.global.openblas;
import org.junit.jupiter.api.Test;

/** σ_max by Lanczos against hand-worked matrices and against LAPACK's dgesvd (the oracle). */
class SpectralNormTest {
  private static FloatBuffer buf(float... v) {
    FloatBuffer b = ByteBuffer.allocateDirect(4 * v.length).order(ByteOrder.nativeOrder()).asFloatBuffer();
    b.put(v).flip();
    return b;
  }

  @Test
  void handWorkedMatrices() {
    // diag(3, -5, 2): σ_max = 5
    assertThat(SpectralNorm.of(buf(3, 0, 0, 0, -5, 0, 0, 0, 2), 0, 3, 3)).isCloseTo(5, within(1e-12));
    // [[1, 1], [0, 1]]: σ_max² = (3 + √5)/2, σ_max = the golden ratio 1.6180339887...
    assertThat(SpectralNorm.of(buf(1, 1, 0, 1), 0, 2, 2)).isCloseTo((1 + Math.sqrt(5)) / 2, within(1e-12));
    // a rank-one 2 × 3 matrix u vᵀ, ‖u‖ = 5 (3, 4), ‖v‖ = 3 (1, 2, 2): σ = 15; at an offset
    assertThat(SpectralNorm.of(buf(9, 9, 3, 6, 6, 4, 8, 8), 2, 2, 3)).isCloseTo(15, within(1e-11));
    // one row: its Euclidean norm
    assertThat(SpectralNorm.of(buf(3, 4), 0, 1, 2)).isCloseTo(5, within(1e-12));
    assertThat(SpectralNorm.of(buf(0, 0, 0, 0), 0, 2, 2)).isEqualTo(0);
  }

  @Test
  void agreesWithLapackOnRandomAndNearlyDegenerateMatrices() {
    Random r = new Random(11);
    int[][] shapes = {{10, 784}, {64, 64}, {128, 300}, {300, 128}, {1000, 10}, {200, 200}};
    for (int[] s : shapes) {
      for (int kind = 0; kind < 2; kind++) {
        int m = s[0];
        int n = s[1];
        float[] a = new float[m * n];
        for (int i = 0; i < a.length; i++) {
          a[i] = (float) (r.nextGaussian() / Math.sqrt(n));
        }
        if (kind == 1) { // two nearly equal top singular values: a slow case for power iteration
          for (int c = 0; c < n; c++) {
            a[c] += 3f / (float) Math.sqrt(n);
            a[n + c] += (c % 2 == 0 ? 3f : -3f) / (float) Math.sqrt(n);
          }
        }
        double[] ad = new double[a.length];
        for (int i = 0; i < a.length; i++) {
          ad[i] = a[i];
        }
        double[] sv = new double[Math.min(m, n)];
        int info = openblas.LAPACKE_dgesvd(openblas.LAPACK_ROW_MAJOR, (byte) 'N', (byte) 'N', m, n, ad, n, sv,
            new double[1], 1, new double[1], 1, new double[Math.min(m, n)]);
        assertThat(info).isZero();
        double got = SpectralNorm.of(buf(a), 0, m, n);
        assertThat(got).as("%d x %d kind %d", m, n, kind).isCloseTo(sv[0], within(1e-9 * sv[0]));
      }
    }
  }

  @Test
  void productOverLayers() {
    FloatBuffer w = buf(2, 0, 0, 2, /* layer 1: 1 x 2 */ 3, 4);
    assertThat(SpectralNorm.product(w, new int[] {0, 4}, new int[] {2, 1}, new int[] {2, 2}))
        .isCloseTo(10, within(1e-11));
  }
}
