package io.github.pathsgd.data;

/**
 * A data set whose files are not there: none of the folders searched holds a complete set of its files. The one
 * {@link DataException} that says the data are absent (a sweep records such a run as {@code missing-data} and goes
 * on); every other one says something is wrong with the data or with what a config asks of them.
 */
public class DataMissingException extends DataException {
  private static final long serialVersionUID = 1L;

  public DataMissingException(String message) {
    super(message);
  }
}
