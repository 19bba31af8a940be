package io.github.pathsgd.core.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** OpenBLAS GEMM/GEMV/AXPY against a plain triple loop in double (the oracle). */
class BlasTest {

  static float[] random(Random r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) r.nextGaussian();
    }
    return a;
  }

  /** C = alpha op(A) op(B) + beta C by the definition, in double. */
  static double[] oracle(boolean ta, boolean tb, int m, int n, int k, double alpha, float[] a, float[] b, double beta,
      float[] c) {
    double[] out = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int p = 0; p < k; p++) {
          double av = ta ? a[p * m + i] : a[i * k + p];
          double bv = tb ? b[j * k + p] : b[p * n + j];
          s += av * bv;
        }
        out[i * n + j] = alpha * s + beta * c[i * n + j];
      }
    }
    return out;
  }

  @ParameterizedTest
  @CsvSource({
    "false,false,37,53,29", "true,false,37,53,29", "false,true,37,53,29", "true,true,37,53,29",
    "false,true,100,65,129", "true,false,65,129,100", "false,false,1,7,3", "true,true,129,1,65"
  })
  void sgemmMatchesTripleLoop(boolean ta, boolean tb, int m, int n, int k) {
    Random r = new Random(m * 31 + n * 7 + k + (ta ? 1 : 0) + (tb ? 2 : 0));
    float[] a = random(r, m * k);
    float[] b = random(r, k * n);
    float[] c = random(r, m * n);
    // place the operands at non-zero offsets to test offset handling
    int off = 5;
    Tensor ta_ = new Tensor(off + a.length);
    ta_.copyFrom(a, 0, off, a.length);
    Tensor tb_ = new Tensor(off + b.length);
    tb_.copyFrom(b, 0, off, b.length);
    Tensor tc = new Tensor(off + c.length);
    tc.copyFrom(c, 0, off, c.length);
    Blas.sgemm(ta, tb, m, n, k, 0.5f, ta_, off, tb_, off, 0.25f, tc, off);
    double[] want = oracle(ta, tb, m, n, k, 0.5, a, b, 0.25, c);
    double maxAbs = 0;
    for (double v : want) {
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
    for (int i = 0; i < want.length; i++) {
      assertThat((double) tc.get(off + i)).isCloseTo(want[i], org.assertj.core.api.Assertions.within(1e-5 * maxAbs + 1e-6));
    }
    assertThat(tc.get(0)).isZero(); // nothing written before the offset
  }

  @Test
  void sameTensorAsTwoOperands() {
    // A and B are two blocks of one tensor: each argument slot must keep its own position.
    Tensor t = new Tensor(8);
    t.copyFrom(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 0, 0, 8);
    Tensor c = new Tensor(4);
    Blas.sgemm(false, false, 2, 2, 2, 1f, t, 0, t, 4, 0f, c, 0);
    // [1 2;3 4]·[5 6;7 8] = [19 22; 43 50]
    assertThat(c.toArray()).containsExactly(19f, 22f, 43f, 50f);
  }

  @Test
  void saxpy() {
    Tensor y2 = Tensor.of(18, 24, 30);
    Blas.saxpy(3, -1f, y2, 0, y2, 0);
    assertThat(y2.toArray()).containsExactly(0f, 0f, 0f);
  }

  /**
   * A block of the last columns of a row-major matrix (offset, leading dimension wider than the block) ends exactly at
   * the tensor's end: it is accepted and computed right, and one float more is rejected.
   */
  @Test
  void columnBlockEndingAtTheTensorEnd() {
    // C is (3, 5); write columns 2..4: C[:, 2:5] = A (3, 2) · B (2, 3)
    Tensor a = Tensor.of(1, 2, 3, 4, 5, 6);
    Tensor b = Tensor.of(1, 0, 2, 0, 1, 3);
    Tensor c = new Tensor(15);
    Blas.sgemm(false, false, 3, 3, 2, 1f, a, 0, 2, b, 0, 3, 0f, c, 2, 5);
    float[] want = {0, 0, 1, 2, 8, 0, 0, 3, 4, 18, 0, 0, 5, 6, 28};
    for (int i = 0; i < 15; i++) {
      assertThat(c.get(i)).as("C[%d]", i).isEqualTo(want[i]);
    }
    assertThatThrownBy(() -> Blas.sgemm(false, false, 3, 3, 2, 1f, a, 0, 2, b, 0, 3, 0f, c, 3, 5))
        .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("C:");
  }

  @Test
  void outOfRangeIsRejected() {
    Tensor a = new Tensor(4);
    assertThatThrownBy(() -> Blas.sgemm(false, false, 2, 2, 3, 1f, a, 0, a, 0, 0f, a, 0))
        .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("A:");
  }

  @Test
  void threadCountIsSettable() {
    int before = Blas.threads();
    Blas.setThreads(1);
    assertThat(Blas.threads()).isEqualTo(1);
    Blas.setThreads(0);
    assertThat(Blas.threads()).isEqualTo(Runtime.getRuntime().availableProcessors());
    Blas.setThreads(before);
  }
}
