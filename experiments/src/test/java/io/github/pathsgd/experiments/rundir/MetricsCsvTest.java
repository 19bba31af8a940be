package io.github.pathsgd.experiments.rundir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.train.history.EpochRecord;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** Reading metrics.csv back: what {@link MetricsCsv#csv} writes parses to the same values; anything else is named. */
class MetricsCsvTest {
  static final String ID = "0123456789ab";
  static final String H = MetricsCsv.HEADER + "\n";

  @Provide
  Arbitrary<List<EpochRecord>> histories() {
    // every bit pattern (NaN, infinities, subnormals, -0.0 included) and ordinary metric values
    Arbitrary<Double> v = Arbitraries.oneOf(Arbitraries.longs().map(Double::longBitsToDouble),
        Arbitraries.doubles().between(0, 10).ofScale(17), Arbitraries.of(Double.NaN, Double.POSITIVE_INFINITY,
            Double.NEGATIVE_INFINITY, 0.0, -0.0, Double.MIN_VALUE, Double.MAX_VALUE));
    Arbitrary<double[]> rec = v.array(double[].class).ofSize(9);
    return rec.list().ofMinSize(1).ofMaxSize(6).map(rs -> {
      List<EpochRecord> h = new ArrayList<>();
      for (int e = 0; e < rs.size(); e++) {
        double[] x = rs.get(e);
        h.add(new EpochRecord(e, x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], Math.abs(x[8])));
      }
      return h;
    });
  }

  @Property(tries = 2000)
  void whatIsWrittenReadsBackExactly(@ForAll("histories") List<EpochRecord> history) {
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
