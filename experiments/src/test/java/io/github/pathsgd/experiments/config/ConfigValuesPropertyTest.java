package io.github.pathsgd.experiments.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.testkit.Tries;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

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

  /** Numbers a flag could carry: the special and boundary doubles, ints and longs. */
  static final List<Object> SPECIAL_DOUBLES = List.of(Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
      0.0, -0.0, -1.0, 1.0, 0.5, 1.5, 1e-50, 1e300, Double.MIN_VALUE, Double.MAX_VALUE);
  static final List<Object> SPECIAL_INTS = List.of(Integer.MIN_VALUE, -1, 0, 1, 2, Integer.MAX_VALUE);
  static final List<Object> LONGS = List.of(Long.MIN_VALUE, Long.MAX_VALUE, 1L << 40);
  static final List<Object> OTHERS = List.of("x", "", "1e-3", true);

  static Object pick(SplittableRandom r, List<Object> from) {
    return from.get(r.nextInt(from.size()));
  }

  /** An int: a special one or one uniform in [-100000, 100000], with equal odds. */
  static Object anInt(SplittableRandom r) {
    return r.nextBoolean() ? pick(r, SPECIAL_INTS) : (Object) r.nextInt(-100000, 100001);
  }

  /**
   * A value, one of five kinds with equal odds: a double (special, or uniform in [-1e6, 1e6]), an int, a long, a list
   * of up to 3 ints (each an int as above or a width whose square overflows or nearly), or a string or boolean.
   */
  static Object value(SplittableRandom r) {
    return switch (r.nextInt(5)) {
      case 0 -> r.nextBoolean() ? pick(r, SPECIAL_DOUBLES) : (Object) r.nextDouble(-1e6, 1e6);
      case 1 -> anInt(r);
      case 2 -> pick(r, LONGS);
      case 3 -> {
        List<Object> l = new ArrayList<>();
        for (int n = r.nextInt(4); l.size() < n; ) {
          l.add(r.nextBoolean() ? anInt(r) : pick(r, List.of(100000, 30000, 46341)));
        }
        yield l;
      }
      default -> pick(r, OTHERS);
    };
  }

  /** Every key with every special value, an empty list and a list of three 46341s (their square overflows an int). */
  static List<Case> edges() {
    List<Case> e = new ArrayList<>();
    for (String k : KEYS) {
      for (List<Object> values : List.of(SPECIAL_DOUBLES, SPECIAL_INTS, LONGS, OTHERS)) {
        values.forEach(v -> e.add(new Case(k, v)));
      }
      e.add(new Case(k, List.of()));
      e.add(new Case(k, List.of(46341, 46341, 46341)));
    }
    return e;
  }

  /** Shrink candidates: a list less one element; an int halved toward 0. */
  static List<Case> smaller(Case c) {
    List<Case> s = new ArrayList<>();
    if (c.value() instanceof List<?> l) {
      for (int i = 0; i < l.size(); i++) {
        List<Object> less = new ArrayList<>(l);
        less.remove(i);
        s.add(new Case(c.key(), less));
      }
    } else if (c.value() instanceof Integer i && i / 2 != i) {
      s.add(new Case(c.key(), i / 2));
    }
    return s;
  }

  @Test
  void everyFailureNamesItsKey() {
    int[] acceptedAndRefused = new int[2];
    Tries.forAll(3000, 0xC0F1_0001L, edges(), r -> new Case(KEYS.get(r.nextInt(KEYS.size())), value(r)),
        ConfigValuesPropertyTest::smaller, c -> acceptedAndRefused[failureNamesItsKey(c) ? 0 : 1]++);
    assertThat(acceptedAndRefused[0]).as("values accepted").isGreaterThan(100);
    assertThat(acceptedAndRefused[1]).as("values refused").isGreaterThan(100);
  }

  /** True when the value is accepted, false when refused with a message that starts with the key. */
  static boolean failureNamesItsKey(Case c) {
    Map<String, Object> m = new HashMap<>();
    m.put(c.key(), c.value());
    try {
      TrainConfig r = Configs.fromMap(m, TrainConfig.class).resolve();
      assertThat(Configs.toMap(r)).containsKey(c.key());
      return true;
    } catch (ConfigException e) {
      String k = c.key();
      assertThat(e.getMessage()).as(c.toString()).matches("(?s)" + java.util.regex.Pattern.quote(k)
          + "(\\[\\d+\\])?: .*").doesNotContain("\n");
      return false;
    }
  }
}
