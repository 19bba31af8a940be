package io.github.pathsgd.testkit;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Seeded property checks for plain JUnit 5 tests: a property holds for its fixed edge cases and for values drawn from
 * {@code new SplittableRandom(seed + t)} on try t, so every run checks the same values and a failure is reproducible
 * from its message alone. It lives in the test-only module {@code pathsgd-testkit}, which the core, data and train tests (and experiments, through train) use; no main code depends on it.
 */
public final class Tries {
  private Tries() {}

  /** A property of one value; any exception or assertion error fails it. */
  @FunctionalInterface
  public interface Check<T> {
    void run(T value) throws Exception;
  }

  /** {@link #forAll(int, long, List, Function, Function, Check)} without shrinking. */
  public static <T> void forAll(int tries, long seed, List<T> edges, Function<SplittableRandom, T> gen,
      Check<T> check) {
    forAll(tries, seed, edges, gen, v -> List.of(), check);
  }

  /**
   * Checks {@code tries} values: the {@code edges} first, then for try t one drawn by {@code gen} from
   * {@code new SplittableRandom(seed + t)}. A failing value is shrunk greedily (the first of {@code smaller(v)} that
   * still fails replaces it, until none does); the error names the try, where its value came from, the value, the
   * smallest failing value found and that value's failure.
   */
  public static <T> void forAll(int tries, long seed, List<T> edges, Function<SplittableRandom, T> gen,
      Function<T, List<T>> smaller, Check<T> check) {
    for (int t = 0; t < tries; t++) {
      T v = t < edges.size() ? edges.get(t) : gen.apply(new SplittableRandom(seed + t));
      Throwable e = failure(check, v);
      if (e == null) {
        continue;
      }
      T min = v;
      for (int round = 0; round < 1000; round++) {
        T next = null;
        for (T s : smaller.apply(min)) {
          Throwable f = failure(check, s);
          if (f != null) {
            next = s;
            e = f;
            break;
          }
        }
        if (next == null) {
          break;
        }
        min = next;
      }
      throw new AssertionError("try " + t + " of " + tries + " (" + (t < edges.size() ? "edge case " + t
          : "drawn from new SplittableRandom(" + (seed + t) + ")") + ") fails for " + v
          + (min == v ? "" : ", shrunk to " + min) + ": " + e, e);
    }
  }

  /** Shrink candidates for an int drawn from [min, v]: min, the midpoint, v - 1 (those below v, without repeats). */
  public static List<Integer> toward(int v, int min) {
    return java.util.stream.IntStream.of(min, (int) (min + ((long) v - min) / 2), v - 1).filter(x -> x >= min && x < v)
        .distinct().boxed().toList();
  }

  private static <T> Throwable failure(Check<T> check, T v) {
    try {
      check.run(v);
      return null;
    } catch (Exception | AssertionError e) {
      return e;
    }
  }
}
