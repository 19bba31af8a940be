package io.github.pathsgd.djl;

import ai.djl.metric.Metrics;
import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListenerAdapter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The model's norms at the start of training and after every epoch, as a DJL training listener: pathsgd's six model
 * metrics (φ_1, φ_2, φ_∞, μ_{2,2}, μ_{2,∞}, the spectral-norm product; {@link DjlNetwork#norms()}), kept in {@link
 * #history()}, added to the trainer's {@link Metrics} (when it has them) under their names, and handed to an optional
 * callback with the epoch (0 before the first).
 */
public final class NormsListener extends TrainingListenerAdapter {
  private DjlNetwork net;
  private final BiConsumer<Integer, Map<String, Double>> callback;
  private final List<Map<String, Double>> history = new ArrayList<>();

  /**
   * Norms of {@code net}'s model (null: the trainer's model, described at the first batch), each epoch also to {@code
   * callback} (may be null).
   */
  public NormsListener(DjlNetwork net, BiConsumer<Integer, Map<String, Double>> callback) {
    this.net = net;
    this.callback = callback;
  }

  /** Records the norms before the first update (the trainer initializes the model after {@code onTrainingBegin}). */
  @Override
  public void onTrainingBatch(Trainer trainer, BatchData batchData) {
    if (history.isEmpty()) {
      record(trainer);
    }
  }

  @Override
  public void onEpoch(Trainer trainer) {
    record(trainer);
  }

  private void record(Trainer trainer) {
    if (net == null) {
      net = DjlNetwork.of(trainer.getModel().getBlock());
    }
    Map<String, Double> n = net.norms();
    history.add(n);
    Metrics m = trainer.getMetrics();
    if (m != null) {
      n.forEach(m::addMetric);
    }
    if (callback != null) {
      callback.accept(history.size() - 1, n);
    }
  }

  /** The norms recorded so far: index 0 before training, then one per epoch. */
  public List<Map<String, Double>> history() {
    return List.copyOf(history);
  }
}
