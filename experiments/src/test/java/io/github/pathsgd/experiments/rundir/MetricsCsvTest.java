package io.github.pathsgd.experiments.rundir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.testkit.Tries;
import io.github.pathsgd.train.history.EpochRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Reading metrics.csv back: what {@link MetricsCsv#csv} writes parses to the same values; anything else is named. */
class MetricsCsvTest {
  static final String ID = "0123456789ab";
  static final String H = MetricsCsv.HEADER + "\n";

  /** The special values: NaN, the infinities, both zeros, the smallest subnormal and the largest double. */
  static final double[] SPECIAL = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0,
    Double.MIN_VALUE, Double.MAX_VALUE};

  /**
   * A metric value, one of three with equal odds: any bit pattern (NaN payloads, infinities, subnormals, -0.0
   * included), an ordinary value in [0, 10] with 0 to 17 decimals, or a special value.
   */
  static double value(SplittableRandom r) {
    return switch (r.nextInt(3)) {
      case 0 -> Double.longBitsToDouble(r.nextLong());
      case 1 -> {
        int scale = r.nextInt(18);
        yield java.math.BigDecimal.valueOf(r.nextLong(10 * pow10(scale) + 1), scale).doubleValue();
      }
      default -> SPECIAL[r.nextInt(SPECIAL.length)];
    };
  }

  static long pow10(int k) {
    long p = 1;
    for (int i = 0; i < k; i++) {
      p *= 10;
    }
    return p;
  }

  /** A history: 1 to 6 epochs of 9 values each (the ninth, the time, made non-negative by the record). */
  record History(List<List<Double>> epochs) {
    List<EpochRecord> records() {
      List<EpochRecord> h = new ArrayList<>();
      for (int e = 0; e < epochs.size(); e++) {
        List<Double> x = epochs.get(e);
        h.add(new EpochRecord(e, x.get(0), x.get(1), x.get(2), x.get(3), x.get(4), x.get(5), x.get(6), x.get(7),
            Math.abs(x.get(8))));
      }
      return h;
    }

    static History draw(SplittableRandom r) {
      List<List<Double>> h = new ArrayList<>();
      for (int n = r.nextInt(1, 7); h.size() < n; ) {
        List<Double> x = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
          x.add(value(r));
        }
        h.add(x);
      }
      return new History(h);
    }

    /** One epoch of each special value, all special values across one epoch, and six epochs of random bit patterns. */
    static List<History> edges() {
      List<History> e = new ArrayList<>();
      for (double v : SPECIAL) {
        e.add(new History(List.of(java.util.Collections.nCopies(9, v))));
      }
      List<Double> mixed = new ArrayList<>();
      for (int i = 0; i < 9; i++) {
        mixed.add(SPECIAL[i % SPECIAL.length]);
      }
      e.add(new History(List.of(mixed)));
      SplittableRandom r = new SplittableRandom(0x3E7C_0000L);
      List<List<Double>> bits = new ArrayList<>();
      for (int k = 0; k < 6; k++) {
        List<Double> x = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
          x.add(Double.longBitsToDouble(r.nextLong()));
        }
        bits.add(x);
      }
      e.add(new History(bits));
      return e;
    }

    /** Shrink candidates: one epoch dropped (keeping one), or one value replaced by 0. */
    List<History> smaller() {
      List<History> s = new ArrayList<>();
      for (int e = 0; e < epochs.size(); e++) {
        if (epochs.size() > 1) {
          List<List<Double>> less = new ArrayList<>(epochs);
          less.remove(e);
          s.add(new History(less));
        }
        for (int i = 0; i < 9; i++) {
          if (Double.doubleToRawLongBits(epochs.get(e).get(i)) != 0) {
            List<Double> x = new ArrayList<>(epochs.get(e));
            x.set(i, 0.0);
            List<List<Double>> h = new ArrayList<>(epochs);
            h.set(e, x);
            s.add(new History(h));
          }
        }
      }
      return s;
    }
  }

  @Test
  void whatIsWrittenReadsBackExactly() {
    Tries.forAll(2000, 0x3E7C_0001L, History.edges(), History::draw, History::smaller,
        h -> whatIsWrittenReadsBack(h.records()));
  }

  static void whatIsWrittenReadsBack(List<EpochRecord> history) {
    String text = MetricsCsv.csv(ID, history);
    List<MetricsCsv.Row> rows = MetricsCsv.parse(text, "metrics.csv", ID);
    List<String> lines = new ArrayList<>();
    for (EpochRecord r : history) {
      lines.addAll(MetricsCsv.rows(ID, r));
    }
    assertThat(rows).hasSize(lines.size());
    for (int i = 0; i < rows.size(); i++) {
      MetricsCsv.Row row = rows.get(i);
      assertThat(row.line()).isEqualTo(lines.get(i));
      assertThat(MetricsCsv.format(row.value())).isEqualTo(lines.get(i).substring(lines.get(i).lastIndexOf(',') + 1));
    }
  }

  @Test
  void theFirstProblemIsNamedWithItsLine() {
    assertThat(MetricsCsv.parse(H + ID + ",0,train,loss,2.5\n" + ID + ",1,test,error,inf\n", "m", ID))
        .extracting(MetricsCsv.Row::value).containsExactly(2.5, Double.POSITIVE_INFINITY);
    assertThat(MetricsCsv.parse(H, "m", ID)).isEmpty();
    bad("", "m: empty file, expected the header run_id,epoch,split,metric,value");
    bad(H + ID + ",0,train,loss,2.5", "m: the last line has no newline (the file was cut short?)");
    bad("run_id,epoch,split,metric\n", "m line 1: expected the header run_id,epoch,split,metric,value, got "
        + "'run_id,epoch,split,metric'");
    bad(H + ID + ",0,train,loss\n", "m line 2: expected 5 comma-separated fields (run_id,epoch,split,metric,value), "
        + "got 4 in '" + ID + ",0,train,loss'");
    bad(H + "\n", "m line 2: expected 5 comma-separated fields (run_id,epoch,split,metric,value), got 1 in ''");
    bad(H + "ffffffffffff,0,train,loss,1\n", "m line 2: expected run_id " + ID + ", got 'ffffffffffff'");
    bad(H + ID + ",-1,train,loss,1\n", "m line 2: expected a non-negative integer epoch, got '-1'");
    bad(H + ID + ",1.5,train,loss,1\n", "m line 2: expected a non-negative integer epoch, got '1.5'");
    bad(H + ID + ",1,dev,loss,1\n", "m line 2: expected split train, validation, test or model, got 'dev'");
    bad(H + ID + ",1,train,Loss,1\n", "m line 2: expected a metric name (a-z, 0-9, _), got 'Loss'");
    for (String v : List.of("NaN", "Infinity", "1.0d", "0x1p3", " 1", "", "1e", "--1")) {
      bad(H + ID + ",1,train,loss," + v + "\n", "m line 2: expected a number, inf or -inf as value, got '" + v + "'");
    }
    bad(H + ID + ",1,train,loss,1\n" + ID + ",1,train,loss,2\n", "m line 3: epoch 1 train loss appears twice");
  }

  private static void bad(String text, String message) {
    assertThatThrownBy(() -> MetricsCsv.parse(text, "m", ID)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage(message);
  }
}
