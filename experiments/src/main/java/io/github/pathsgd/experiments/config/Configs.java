package io.github.pathsgd.experiments.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Strict JSON and YAML mappers for configs and results: snake_case keys, unknown keys rejected. */
public final class Configs {
  private static final ObjectMapper JSON = configure(new ObjectMapper());
  private static final ObjectMapper YAML = configure(new ObjectMapper(new YAMLFactory()));

  private Configs() {}

  private static ObjectMapper configure(ObjectMapper m) {
    m.setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
    m.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    m.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    m.enable(SerializationFeature.INDENT_OUTPUT);
    m.disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
    return m;
  }

  public static ObjectMapper json() {
    return JSON;
  }

  public static ObjectMapper yaml() {
    return YAML;
  }

  /** Reads a YAML or JSON file (by extension) into {@code type}; errors name the file and the bad key. */
  public static <T> T read(Path file, Class<T> type) {
    String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
    ObjectMapper m = name.endsWith(".json") ? JSON : YAML;
    try {
      return m.readValue(Files.readAllBytes(file), type);
    } catch (UnrecognizedPropertyException e) {
      throw new ConfigException(e.getPropertyName(), "unknown key in " + file + " (known keys: "
          + e.getKnownPropertyIds() + ")");
    } catch (JsonProcessingException e) {
      throw new ConfigException(file.toString(), e.getOriginalMessage());
    } catch (IOException e) {
      throw new ConfigException(file.toString(), "cannot read: " + e.getMessage());
    }
  }

  /** A YAML/JSON string into {@code type}. */
  public static <T> T parse(String text, Class<T> type, String source) {
    try {
      return YAML.readValue(text, type);
    } catch (UnrecognizedPropertyException e) {
      throw new ConfigException(e.getPropertyName(), "unknown key in " + source + " (known keys: "
          + e.getKnownPropertyIds() + ")");
    } catch (JsonProcessingException e) {
      throw new ConfigException(source, e.getOriginalMessage());
    }
  }

  /** The config as a snake_case map (for overrides and records). */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> toMap(Object config) {
    return JSON.convertValue(config, Map.class);
  }

  /** Rebuilds a config from a map, strictly. */
  public static <T> T fromMap(Map<String, Object> map, Class<T> type) {
    try {
      return JSON.convertValue(map, type);
    } catch (IllegalArgumentException e) {
      Throwable c = e.getCause();
      if (c instanceof UnrecognizedPropertyException u) {
        throw new ConfigException(u.getPropertyName(), "unknown key (known keys: " + u.getKnownPropertyIds() + ")");
      }
      throw new ConfigException("config", e.getMessage());
    }
  }
}
