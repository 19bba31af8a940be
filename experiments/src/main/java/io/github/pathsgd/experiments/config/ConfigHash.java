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

  /**
   * Keys that do not change what a run computes, left out of the config hash; {@code init_model} (a path) is stood
   * for by {@code init_model_sha256}, the file's content.
   */
  private static final Set<String> NOT_HASHED = Set.of("data_dir", "threads", "init_model");
  /**
   * Keys added after run ids were published: hashed only when set (not null, not false), so that a config that leaves
   * them unset keeps its run id. {@code pin_threads} also puts {@code threads} into the hash.
   */
  private static final Set<String> HASHED_WHEN_SET = Set.of("layers", "init_model_sha256", "max_steps",
      "pin_threads", "clip_norm", "kappa2");

  /** SHA-256 (hex) of the resolved config's canonical JSON, without the keys that do not change the result. */
  public static String configHash(TrainConfig cfg) {
    TrainConfig r = cfg.resolve();
    if (r.initModel() != null && r.initModelSha256() == null) {
      throw new IllegalStateException("init_model " + r.initModel() + " is not bound to its content (no "
          + "init_model_sha256): bind the config first (Components.bindInitModel)");
    }
    Map<String, Object> m = new TreeMap<>(Configs.toMap(r));
    boolean pinned = Boolean.TRUE.equals(m.get("pin_threads"));
    NOT_HASHED.forEach(m::remove);
    for (String k : HASHED_WHEN_SET) {
      if (m.get(k) == null || Boolean.FALSE.equals(m.get(k))) {
        m.remove(k);
      }
    }
    if (Boolean.TRUE.equals(m.get("record_norms"))) {
      m.remove("record_norms"); // the default; hashed only when false
    }
    if (pinned) {
      m.put("threads", r.threads());
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
