package io.github.pathsgd.model.format;

import java.io.IOException;
import java.nio.file.Path;

/** A model file that breaks the format or pathsgd's rules; the message names the file and what is wrong. */
public final class InvalidModelException extends IOException {
  private static final long serialVersionUID = 1L;

  /** {@code file: what}. */
  public InvalidModelException(Path file, String what) {
    super(file + ": " + what);
  }
}
