package io.github.pathsgd.data;

import java.util.Collection;
import java.util.Locale;

/** "Did you mean" hints for a misspelt name (a flag, config key, data set or figure): the nearest known name. */
public final class Suggest {
  private Suggest() {}

  /**
   * The known name nearest to {@code given} by Levenshtein distance (case ignored), when it is within 1 edit for names
   * of up to 3 characters, else within a third of the longer name's length (at least 2, at most 3 edits); null
   * otherwise or when {@code given} is itself known.
   */
  public static String nearest(String given, Collection<String> known) {
    if (given == null || given.isEmpty()) {
      return null;
    }
    String g = given.toLowerCase(Locale.ROOT);
    String best = null;
    int bestD = Integer.MAX_VALUE;
    for (String k : known) {
      String kl = k.toLowerCase(Locale.ROOT);
      if (kl.equals(g)) {
        return null;
      }
      int d = distance(g, kl);
      if (d < bestD) {
        bestD = d;
        best = k;
      }
    }
    int len = best == null ? 0 : Math.max(g.length(), best.length());
    int allowed = len <= 3 ? 1 : Math.min(3, Math.max(2, len / 3));
    return best != null && bestD <= allowed ? best : null;
  }

  /** " (did you mean 'x'?)" for the nearest known name, or "" when none is near. */
  public static String hint(String given, Collection<String> known) {
    String n = nearest(given, known);
    return n == null ? "" : " (did you mean '" + n + "'?)";
  }

  /** The Levenshtein distance (insertions, deletions and substitutions of one character each cost 1). */
  public static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
