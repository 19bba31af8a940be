package io.github.pathsgd.train.listener;

/**
 * Thrown by a listener to end a run at once, as a kill would: no summary, and the last checkpoint stays, so the run
 * resumes from it when it is started again. The trainer lets it through to its caller.
 */
public class TrainingCancelled extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public TrainingCancelled(String message) {
    super(message);
  }
}
