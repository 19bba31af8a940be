package io.github.pathsgd.experiments.train;

import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.Mlp;
import io.github.pathsgd.core.nn.ParamLayout;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.data.DataRequest;
import io.github.pathsgd.data.DataSplits;
import io.github.pathsgd.data.Datasets;
import io.github.pathsgd.data.Preprocessing;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.config.TrainConfig;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/** Turns a {@link TrainConfig} into data, a network, an optimizer and a {@link Trainer}. */
public final class TrainRun {
  private TrainRun() {}

  /** Keys that do not change what a run computes, left out of the config hash. */
  private static final java.util.Set<String> NOT_HASHED = java.util.Set.of("data_dir", "threads");

  /** SHA-256 (hex) of the resolved config's canonical JSON, without the keys that do not change the result. */
  public static String configHash(TrainConfig cfg) {
    Map<String, Object> m = new TreeMap<>(Configs.toMap(cfg.resolve()));
    NOT_HASHED.forEach(m::remove);
    try {
      byte[] json = Configs.json().writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
          .writeValueAsBytes(m);
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(json));
    } catch (NoSuchAlgorithmException | com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The short run id: the first 12 hex digits of the config hash. */
  public static String runId(TrainConfig cfg) {
    return configHash(cfg).substring(0, 12);
  }

  /**
   * The validation size the config asks for: {@code validation_size} when it is set; auto (-1) with {@code
   * per_class_train} N, an eighth of the 10·N images of a ten-class subset (at least 1); else {@link
   * DataRequest#AUTO}, which {@link Datasets#load} resolves from the training set's size ({@link
   * Datasets#autoValidationSize}: 10,000 from 40,000 images on, else an eighth).
   */
  public static int validationSize(TrainConfig cfg) {
    if (cfg.validationSize() >= 0) {
      return cfg.validationSize();
    }
    if (cfg.perClassTrain() > 0) {
      return Math.max(1, cfg.perClassTrain() * 10 / 8);
    }
    return DataRequest.AUTO;
  }

  /** Loads the data a config asks for. */
  public static DataSplits loadData(TrainConfig cfg) {
    int v = validationSize(cfg);
    try {
      return loadData(cfg, v);
    } catch (io.github.pathsgd.data.DataException e) {
      if (cfg.validationSize() < 0 && e.getMessage().startsWith("validation size ")) { // say where the size came from
        throw new io.github.pathsgd.data.DataException(e.getMessage() + " (validation_size -1 = auto chose " + v
            + (cfg.perClassTrain() > 0 ? ", 10/8 of per_class_train " + cfg.perClassTrain() : "")
            + "; set validation_size / --validation-size)", e);
      }
      throw e;
    }
  }

  /** Loads the data a config asks for, with an explicit validation size (0 = train on everything). */
  public static DataSplits loadData(TrainConfig cfg, int validationSize) {
    Preprocessing pre = new Preprocessing(cfg.standardize(), cfg.downsample(), cfg.grayscale(), cfg.perClassTrain());
    return Datasets.load(new DataRequest(cfg.dataset(), cfg.dataDir() == null ? null : Path.of(cfg.dataDir()),
        validationSize, cfg.seed(), pre));
  }

  /**
   * The initial network for a config: balanced (stream {@code init}), or the paper's unbalanced rescaling of it (stream
   * {@code unbalance}; its check's random inputs from {@code unbalance}'s split {@code check}).
   *
   * @throws io.github.pathsgd.core.geometry.Rescaling.Refused if the unbalanced rescaling overflows, underflows or is not
   *     equivalent (see {@link OptimizerFactory#unbalance})
   */
  public static Mlp initialNetwork(TrainConfig cfg, int inputs, int classes) {
    ParamLayout layout = new ParamLayout(cfg.widths(inputs, classes));
    Rng root = new Rng(cfg.seed());
    Mlp net = Init.balanced(layout, root.split("init"));
    if (cfg.init().equals("unbalanced")) {
      OptimizerFactory.unbalance(net, cfg, root.split("unbalance"));
    }
    return net;
  }

  /** A trainer for the config over already loaded data. */
  public static Trainer trainer(TrainConfig cfg, DataSplits data) {
    cfg = cfg.resolve();
    Blas.setThreads(cfg.threads());
    int classes = data.train().numClasses();
    // the parameters and the batch's activations must each fit one buffer: refused here, before anything is
    // allocated or a run folder is made, not mid-run
    new ParamLayout(cfg.widths(data.train().dim(), classes))
        .requireBatch(Math.min(cfg.batchSize(), Math.max(1, data.train().n())));
    Mlp net = initialNetwork(cfg, data.train().dim(), classes);
    Optimizer opt = OptimizerFactory.create(cfg);
    Dropout dropout = new Dropout((float) (1 - cfg.dropout()), (float) (1 - cfg.inputDropout()));
    Trainer.Options o = new Trainer.Options(cfg.batchSize(), cfg.epochs(), dropout, cfg.seed(), cfg.stopTrainLoss(),
        cfg.stopAtZeroTrainError(), cfg.trainEval().equals("full"), 1000, cfg.divergenceFactor());
    return new Trainer(net, opt, data.train(), data.validation(), data.test(), o, configHash(cfg));
  }
}
