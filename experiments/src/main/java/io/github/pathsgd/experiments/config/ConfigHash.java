package io.github.pathsgd.experiments.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** A run's identity: the hash of its resolved config and the short run id taken from it. */
public final class ConfigHash {
  private ConfigHash() {}

  /** Keys that do not change what a run computes, left out of the config hash. */
  private static final Set<String> NOT_HASHED = Set.of("data_dir", "threads");

  /**
   * Keys hashed only when set (not null, not false), so that configs that leave them unset keep their run ids:
   * {@code pin_threads}, which also puts {@code threads} into the hash.
   */
  private static final Set<String> HASHED_WHEN_SET = Set.of("pin_threads");

  /** SHA-256 (hex) of the resolved config's canonical JSON, without the keys that do not change the result. */
  public static String configHash(TrainConfig cfg) {
    Map<String, Object> m = new TreeMap<>(Configs.toMap(cfg.resolve()));
    boolean pinned = Boolean.TRUE.equals(m.get("pin_threads"));
    NOT_HASHED.forEach(m::remove);
    for (String k : HASHED_WHEN_SET) {
      if (m.get(k) == null || Boolean.FALSE.equals(m.get(k))) {
        m.remove(k);
      }
    }
    if (pinned) {
      m.put("threads", cfg.resolve().threads());
    }
    try {
      byte[] json = Configs.json().writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(m);
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(json));
    } catch (NoSuchAlgorithmException | JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The short run id: the first 12 hex digits of the config hash. */
  public static String runId(TrainConfig cfg) {
    return configHash(cfg).substring(0, 12);
  }
}
