package io.github.pathsgd.experiments.config;

/** A configuration value that is missing or out of range; the message names the field and what was expected. */
public class ConfigException extends RuntimeException {
  private final String field;

  public ConfigException(String field, String message) {
    super(field + ": " + message);
    this.field = field;
  }

  public String field() {
    return field;
  }
}
