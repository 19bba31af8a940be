package io.github.pathsgd.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.junit.jupiter.api.Test;

/**
 * The parameter count and the batch x width products must each fit one direct float32 buffer (at most 2^31 - 1
 * bytes, so {@link ParamLayout#MAX_PARAMS} floats); beyond that a layout is refused with one message naming the
 * widths and the count, never an overflowed capacity or index.
 */
class ParamLayoutLimitsTest {
  static long params(List<Integer> w) {
    long n = 0;
    for (int i = 0; i + 1 < w.size(); i++) {
      n += (long) w.get(i + 1) * w.get(i) + w.get(i + 1);
    }
    return n;
  }

  @Provide
  Arbitrary<List<Integer>> widths() {
    // log-uniform widths from 1 to 2^31 - 1: small, large and overflowing networks in one family
    Arbitrary<Integer> w = Arbitraries.integers().between(0, 31).flatMap(e -> Arbitraries.integers()
        .between(1 << Math.max(0, e - 1), e == 31 ? Integer.MAX_VALUE : (1 << e)));
    return w.list().ofMinSize(2).ofMaxSize(5);
  }

  @Property(tries = 5000)
  void acceptedExactlyWhenTheCountFits(@ForAll("widths") List<Integer> w) {
    int[] a = w.stream().mapToInt(Integer::intValue).toArray();
    long n = params(w);
    Statistics.collect(n <= ParamLayout.MAX_PARAMS ? "fits" : "refused");
    if (n <= ParamLayout.MAX_PARAMS) {
      ParamLayout p = new ParamLayout(a);
      assertThat(p.size()).isEqualTo(n);
      int last = p.layers() - 1;
      assertThat((long) p.biasOffset(last) + p.out(last)).isEqualTo(n);
    } else {
      assertThatThrownBy(() -> new ParamLayout(a)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(" has " + n + " parameters, more than the 536870911 one float32 buffer can hold");
    }
  }

  @Property(tries = 2000)
  void batchAcceptedExactlyWhenItsActivationsFit(@ForAll("widths") List<Integer> w,
      @ForAll("batches") int batch) {
    int[] a = w.stream().mapToInt(Integer::intValue).toArray();
    if (params(w) > ParamLayout.MAX_PARAMS) {
      return;
    }
    ParamLayout p = new ParamLayout(a);
    long need = (long) batch * p.maxWidth();
    Statistics.collect(need <= ParamLayout.MAX_PARAMS ? "fits" : "refused");
    if (need <= ParamLayout.MAX_PARAMS) {
      p.requireBatch(batch);
    } else {
      assertThatThrownBy(() -> p.requireBatch(batch)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("a batch of " + batch + " rows").hasMessageContaining("needs " + need + " floats")
          .hasMessageContaining("use a batch of at most " + ParamLayout.MAX_PARAMS / p.maxWidth());
    }
  }

  @Provide
  Arbitrary<Integer> batches() {
    return Arbitraries.integers().between(0, 30).flatMap(e -> Arbitraries.integers().between(1 << Math.max(0, e - 1),
        1 << e));
  }

  @Test
  void theReportedCases() {
    assertThatThrownBy(() -> new ParamLayout(784, 100000, 100000, 10)).hasMessage("network 784-100000-100000-10 has "
        + "10079600010 parameters, more than the 536870911 one float32 buffer can hold (a direct buffer has at most "
        + "2^31 - 1 bytes); use smaller hidden widths");
    // 30000 x 30000: fits an int index but not a direct buffer (the former "capacity < 0")
    assertThatThrownBy(() -> new ParamLayout(784, 30000, 30000, 10)).hasMessageContaining("has 923880010 parameters");
    assertThatThrownBy(() -> new ParamLayout(784, 100000, 10).requireBatch(10000)).hasMessage("a batch of 10000 rows "
        + "through network 784-100000-10 needs 1000000000 floats for its widest layer (100000 units), more than the "
        + "536870911 one float32 buffer can hold; use a batch of at most 5368 or smaller widths");
    assertThatThrownBy(() -> new ParamLayout(784, 10).requireBatch(0)).hasMessage("batch size must be positive, got 0");
  }
}
