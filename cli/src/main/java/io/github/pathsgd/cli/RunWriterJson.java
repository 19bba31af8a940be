package io.github.pathsgd.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.github.pathsgd.experiments.config.Configs;

/** One-line JSON for terminal output. */
final class RunWriterJson {
  private RunWriterJson() {}

  static String compact(Object o) {
    try {
      return Configs.json().writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(o);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
