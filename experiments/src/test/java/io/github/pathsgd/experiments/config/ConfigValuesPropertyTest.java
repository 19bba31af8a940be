package io.github.pathsgd.experiments.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * Any value for any numeric key, as a flag override would give it: either the config resolves (and keeps the value),
 * or the one error is a {@link ConfigException} whose single-line message starts with that key. Never another
 * exception type, never an unnamed key.
 */
class ConfigValuesPropertyTest {
  static final List<String> KEYS = List.of("lr", "momentum", "p", "kappa_every", "adagrad_eps", "unbalance_fraction",
      "unbalance_count", "unbalance_mu", "unbalance_sigma", "batch_size", "epochs", "dropout", "input_dropout", "seed",
      "threads", "validation_size", "stop_train_loss", "downsample", "per_class_train", "hidden");

  record Case(String key, Object value) {}

  @Provide
  Arbitrary<Case> cases() {
    Arbitrary<Object> doubles = Arbitraries.oneOf(Arbitraries.of(Double.NaN, Double.POSITIVE_INFINITY,
        Double.NEGATIVE_INFINITY, 0.0, -0.0, -1.0, 1.0, 0.5, 1.5, 1e-50, 1e300, Double.MIN_VALUE, Double.MAX_VALUE),
        Arbitraries.doubles().between(-1e6, 1e6)).map(d -> d);
    Arbitrary<Object> ints = Arbitraries.oneOf(Arbitraries.of(Integer.MIN_VALUE, -1, 0, 1, 2, Integer.MAX_VALUE),
        Arbitraries.integers().between(-100000, 100000)).map(i -> i);
    Arbitrary<Object> longs = Arbitraries.of(Long.MIN_VALUE, Long.MAX_VALUE, 1L << 40).map(l -> l);
    Arbitrary<Object> lists = Arbitraries.oneOf(ints, Arbitraries.of(100000, 30000, 46341)).list().ofMaxSize(3)
        .map(l -> l);
    Arbitrary<Object> values = Arbitraries.oneOf(doubles, ints, longs, lists, Arbitraries.of("x", "", "1e-3", true));
    return Combinators.combine(Arbitraries.of(KEYS), values).as(Case::new);
  }

  @Property(tries = 3000)
  void everyFailureNamesItsKey(@ForAll("cases") Case c) {
    Map<String, Object> m = new HashMap<>();
    m.put(c.key(), c.value());
    try {
      TrainConfig r = Configs.fromMap(m, TrainConfig.class).resolve();
      Statistics.collect("accepted");
      assertThat(Configs.toMap(r)).containsKey(c.key());
    } catch (ConfigException e) {
      Statistics.collect("refused");
      String k = c.key();
      assertThat(e.getMessage()).as(c.toString()).matches("(?s)" + java.util.regex.Pattern.quote(k)
          + "(\\[\\d+\\])?: .*").doesNotContain("\n");
    }
  }
}
