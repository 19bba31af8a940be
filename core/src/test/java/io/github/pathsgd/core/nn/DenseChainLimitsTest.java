package io.github.pathsgd.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.testkit.Tries;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The parameter count and the batch x width products must each fit one direct float32 buffer (at most 2^31 - 1
 * bytes, so {@link DenseChain#MAX_PARAMS} floats); beyond that a layout is refused with one message naming the
 * widths and the count, never an overflowed capacity or index.
 */
class DenseChainLimitsTest {
  /** The exact parameter count (five widths near 2^31 have more than a long holds). */
  static BigInteger params(List<Integer> w) {
    BigInteger n = BigInteger.ZERO;
    for (int i = 0; i + 1 < w.size(); i++) {
      n = n.add(BigInteger.valueOf(w.get(i + 1)).multiply(BigInteger.valueOf(w.get(i))).add(BigInteger.valueOf(
          w.get(i + 1))));
    }
    return n;
  }

  static boolean fits(List<Integer> w) {
    return params(w).compareTo(BigInteger.valueOf(DenseChain.MAX_PARAMS)) <= 0;
  }

  /** A log-uniform number: exponent e uniform in [0, maxExp], then uniform in [2^(e-1), 2^e] (2^31 as int max). */
  static int logUniform(SplittableRandom r, int maxExp) {
    int e = r.nextInt(0, maxExp + 1);
    long hi = e == 31 ? Integer.MAX_VALUE : 1L << e;
    return (int) r.nextLong(1L << Math.max(0, e - 1), hi + 1);
  }

  /** 2 to 5 log-uniform widths from 1 to 2^31 - 1: small, large and overflowing networks in one family. */
  static List<Integer> widths(SplittableRandom r) {
    List<Integer> w = new ArrayList<>();
    for (int n = r.nextInt(2, 6); w.size() < n; ) {
      w.add(logUniform(r, 31));
    }
    return w;
  }

  static final int MAX = Integer.MAX_VALUE;

  /** The extremes, and the two networks on either side of the limit (n = 536870910·1 + 1 and one more). */
  static final List<List<Integer>> EDGES = List.of(List.of(1, 1), List.of(MAX, MAX), List.of(1, MAX), List.of(MAX, 1),
      List.of(MAX, MAX, MAX, MAX, MAX), List.of(1, 1, 1, 1, 1), List.of(536870910, 1), List.of(536870911, 1),
      List.of(1, 268435455), List.of(1, 268435456));

  /** Shrink candidates: one width dropped (keeping at least two), or one width moved toward 1. */
  static List<List<Integer>> smaller(List<Integer> w) {
    List<List<Integer>> s = new ArrayList<>();
    for (int i = 0; i < w.size(); i++) {
      if (w.size() > 2) {
        List<Integer> less = new ArrayList<>(w);
        less.remove(i);
        s.add(less);
      }
      for (int v : Tries.toward(w.get(i), 1)) {
        List<Integer> lower = new ArrayList<>(w);
        lower.set(i, v);
        s.add(lower);
      }
    }
    return s;
  }

  @Test
  void acceptedExactlyWhenTheCountFits() {
    int[] fitsAndRefused = new int[2];
    Tries.forAll(5000, 0x7A1D_0001L, EDGES, DenseChainLimitsTest::widths, DenseChainLimitsTest::smaller, w -> {
      int[] a = w.stream().mapToInt(Integer::intValue).toArray();
      BigInteger n = params(w);
      fitsAndRefused[fits(w) ? 0 : 1]++;
      if (fits(w)) {
        DenseChain p = new DenseChain(a);
        assertThat(p.size()).isEqualTo(n.intValueExact());
        int last = p.layers() - 1;
        assertThat(p.biasOffset(last) + p.out(last)).isEqualTo(n.intValueExact());
      } else {
        assertThatThrownBy(() -> new DenseChain(a)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining(" has " + n + " parameters, more than the 536870911 one float32 buffer can hold");
      }
    });
    assertThat(fitsAndRefused[0]).as("tries that fit").isGreaterThan(1000);
    assertThat(fitsAndRefused[1]).as("tries refused").isGreaterThan(1000);
  }

  /** Batch sizes log-uniform from 1 to 2^30, with the widths of a network that fits. */
  record Batch(List<Integer> widths, int batch) {}

  @Test
  void batchAcceptedExactlyWhenItsActivationsFit() {
    List<Batch> edges = List.of(new Batch(List.of(1, 1), 1), new Batch(List.of(1, 1), 1 << 30),
        new Batch(List.of(536870910, 1), 1), new Batch(List.of(536870910, 1), 2), new Batch(List.of(1, 268435455), 2),
        new Batch(List.of(1, 268435455), 3));
    int[] fitsAndRefused = new int[2];
    Tries.forAll(2000, 0x7A1D_0002L, edges, r -> new Batch(widths(r), logUniform(r, 30)), b -> {
      List<Batch> s = new ArrayList<>();
      smaller(b.widths()).forEach(w -> s.add(new Batch(w, b.batch())));
      Tries.toward(b.batch(), 1).forEach(n -> s.add(new Batch(b.widths(), n)));
      return s;
    }, c -> {
      int[] a = c.widths().stream().mapToInt(Integer::intValue).toArray();
      if (!fits(c.widths())) {
        return;
      }
      int batch = c.batch();
      DenseChain p = new DenseChain(a);
      long need = (long) batch * p.maxWidth();
      fitsAndRefused[need <= DenseChain.MAX_PARAMS ? 0 : 1]++;
      if (need <= DenseChain.MAX_PARAMS) {
        p.requireBatch(batch);
      } else {
        assertThatThrownBy(() -> p.requireBatch(batch)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("a batch of " + batch + " rows").hasMessageContaining("needs " + need + " floats")
            .hasMessageContaining("use a batch of at most " + DenseChain.MAX_PARAMS / p.maxWidth());
      }
    });
    assertThat(fitsAndRefused[0]).as("tries that fit").isGreaterThan(100);
    assertThat(fitsAndRefused[1]).as("tries refused").isGreaterThan(100);
  }

  @Test
  void theReportedCases() {
    assertThatThrownBy(() -> new DenseChain(784, 100000, 100000, 10)).hasMessage("network 784-100000-100000-10 has "
        + "10079600010 parameters, more than the 536870911 one float32 buffer can hold (a direct buffer has at most "
        + "2^31 - 1 bytes); use smaller hidden widths");
    // 30000 x 30000: fits an int index but not a direct buffer (the former "capacity < 0")
    assertThatThrownBy(() -> new DenseChain(784, 30000, 30000, 10)).hasMessageContaining("has 923880010 parameters");
    assertThatThrownBy(() -> new DenseChain(784, 100000, 10).requireBatch(10000)).hasMessage("a batch of 10000 rows "
        + "through network 784-100000-10 needs 1000000000 floats for its widest layer (100000 units), more than the "
        + "536870911 one float32 buffer can hold; use a batch of at most 5368 or smaller widths");
    // more parameters than a long holds: refused with the exact count (summed in a long, it wrapped to a small one)
    assertThatThrownBy(() -> new DenseChain(2, MAX, MAX, MAX)).hasMessageStartingWith("network 2-2147483647-"
        + "2147483647-2147483647 has 9223372039002259453 parameters, more than the 536870911 one float32 buffer");
    assertThatThrownBy(() -> new DenseChain(784, 10).requireBatch(0)).hasMessage("batch size must be positive, got 0");
  }
}
