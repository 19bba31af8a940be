package io.github.pathsgd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.data.DataSplits;
import io.github.pathsgd.experiments.config.Components;
import io.github.pathsgd.experiments.config.ConfigHash;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.config.Defaults;
import io.github.pathsgd.experiments.config.TrainConfig;
import io.github.pathsgd.experiments.rundir.RunDirectory;
import io.github.pathsgd.experiments.rundir.RunWriter;
import io.github.pathsgd.model.SafeTensors;
import io.github.pathsgd.train.Trainer;
import io.github.pathsgd.train.history.RunResult;
import io.github.pathsgd.train.io.OutputTarget;
import io.github.pathsgd.train.listener.TrainingListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pathsgd train}: one training run. */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Train a ReLU network (fully connected with --hidden, or convolutional, pooling and dense layers with --layers;"
          + " or from a model file with --init-model) and write metrics.csv, config.json and summary.json to the"
          + " output folder.",
      "Defaults: the bundled " + Defaults.DATASET + " (8,000 train / 2,000 test MNIST digits,",
      "1,000 of the train held out for validation), hidden " + Defaults.HIDDEN_TEXT + ",",
      Defaults.OPTIMIZER + " with momentum " + Defaults.TRAIN_COMMAND_SGD_MOMENTUM + ", lr " + Defaults.LR
          + ", dropout " + Defaults.TRAIN_COMMAND_DROPOUT + ", batch " + Defaults.BATCH_SIZE + ", "
          + Defaults.TRAIN_COMMAND_EPOCHS + " epochs, seed " + Defaults.SEED + ".",
      "A key a --config file sets wins over these defaults, a flag over both; a run's own config.json repeats it.",
      "A run killed mid-way resumes from its last epoch checkpoint when rerun with the same config and --out."
    })
final class TrainCommand implements Callable<Integer> {
  @Option(names = "--config", paramLabel = "FILE", description = "YAML or JSON run config; flags override its keys")
  Path config;

  @Option(names = "--dataset", description = "mnist, mnist-sample, fashion-mnist, cifar10, cifar100, svhn (in any "
      + "case; default " + Defaults.DATASET + "), seqmnist, seqmnist-14, adding-T (the adding problem, e.g. adding-100; "
      + "mean squared error), or the path of your own data (.npz, a folder of .npy files or an image "
      + "folder), read exactly as written")
  String dataset;

  @Option(names = "--data-dir", paramLabel = "DIR",
      description = "data folder (default: $PATHSGD_DATA, then ~/.pathsgd/data)")
  Path dataDir;

  @Option(names = "--hidden", split = ",", paramLabel = "W[,W...]",
      description = "hidden-layer widths, e.g. 4000,4000 (default " + Defaults.HIDDEN_TEXT + ")")
  List<Integer> hidden;

  @Option(names = "--layers", paramLabel = "SPEC",
      description = "a network of layers instead of --hidden, e.g. conv(16,3,pad=1),avgpool(2),dense(128) (items conv("
          + "F,K[,stride=S][,pad=P]) with K or KHxKW, avgpool(K[,stride=S]), maxpool(K[,stride=S]), dense(N), "
          + "flatten, res(ITEM,...) a residual block y = relu(x + F(x)) of conv and dense items keeping the shape, "
          + "rnn(H) a ReLU RNN, first item only); "
          + "input shape from the data set, output layer added")
  String layers;

  @Option(names = "--optimizer", description = "sgd, adagrad or path-sgd (default " + Defaults.OPTIMIZER + ")")
  String optimizer;

  @Option(names = "--lr", description = "step size η (default " + Defaults.LR + "; adagrad "
      + Defaults.LR_ADAGRAD + ")")
  Double lr;

  @Option(names = "--momentum", description = "momentum μ in [0,1), PyTorch convention (default "
      + Defaults.TRAIN_COMMAND_SGD_MOMENTUM + " for sgd, else " + Defaults.MOMENTUM + ")")
  Double momentum;

  @Option(names = "--nesterov", description = "Nesterov momentum")
  Boolean nesterov;

  @Option(names = "--p", description = "Path-SGD's ℓp (default " + Defaults.P + ")")
  Double p;

  @Option(names = "--init", description = "balanced (N(0,1/fan-in)), unbalanced (the paper's rescaling) or irnn "
      + "(an rnn layer's W_rec = I, b = 0, W_in ~ N(0, 0.001²)); default " + Defaults.INIT)
  String init;

  @Option(names = "--clip-norm", paramLabel = "C", description = "clip the gradient to global ℓ2 norm C before the "
      + "optimizer (before Path-SGD's κ; IRNN uses 1; default: no clipping)")
  Double clipNorm;

  @Option(names = "--kappa2", description = "Path-SGD on an rnn layer: κ = κ^(1) + κ^(2) (the cross term; p = 1 or 2); "
      + "the same as rnn(H,kappa2)")
  Boolean kappa2;

  @Option(names = "--unbalance-fraction", paramLabel = "F",
      description = "unbalanced init: round(F·width) picks in each hidden layer (default " + Defaults.UNBALANCE_FRACTION
          + ", the authors' demo)")
  Double unbalanceFraction;

  @Option(names = "--unbalance-count", paramLabel = "N",
      description = "unbalanced init: N picks over all hidden layers instead (absolute; not with --unbalance-fraction)")
  Integer unbalanceCount;

  @Option(names = "--unbalance-factor", description = "unbalanced init: factor 10c or 10^c (default "
      + Defaults.UNBALANCE_FACTOR + ")")
  String unbalanceFactor;

  @Option(names = "--unbalance-mu", description = "unbalanced init: μ of c ~ LogNormal(μ, σ) (default "
      + Defaults.UNBALANCE_MU + ")")
  Double unbalanceMu;

  @Option(names = "--unbalance-sigma", description = "unbalanced init: σ of c ~ LogNormal(μ, σ) (default "
      + Defaults.UNBALANCE_SIGMA + ")")
  Double unbalanceSigma;

  @Option(names = "--batch-size", description = "mini-batch size (default " + Defaults.BATCH_SIZE + ")")
  Integer batchSize;

  @Option(names = "--epochs", description = "epoch budget (default " + Defaults.TRAIN_COMMAND_EPOCHS + ")")
  Integer epochs;

  @Option(names = "--dropout", description = "drop probability of hidden units, as in PyTorch (default "
      + Defaults.TRAIN_COMMAND_DROPOUT + ")")
  Double dropout;

  @Option(names = "--input-dropout", description = "drop probability of the input features (default "
      + Defaults.INPUT_DROPOUT + ")")
  Double inputDropout;

  @Option(names = "--kappa-every", description = "Path-SGD: recompute κ every k steps (default "
      + Defaults.KAPPA_EVERY + ")")
  Integer kappaEvery;

  @Option(names = "--standardize", description = "per-channel standardization with training statistics")
  Boolean standardize;

  @Option(names = "--downsample", description = "downsample images to k×k by area averaging (default "
      + Defaults.DOWNSAMPLE + " = off)")
  Integer downsample;

  @Option(names = "--grayscale", description = "convert colour images to grey (ITU-R BT.601)")
  Boolean grayscale;

  @Option(names = "--per-class-train", description = "class-balanced training subset, N per class (default "
      + Defaults.PER_CLASS_TRAIN + " = all)")
  Integer perClassTrain;

  @Option(names = "--seed", description = "seed of every random stream (default " + Defaults.SEED + ")")
  Long seed;

  @Option(names = "--threads", description = "OpenBLAS threads (default " + Defaults.THREADS + " = all cores)")
  Integer threads;

  @Option(names = "--validation-size", description = "training rows held out for validation (default "
      + Defaults.VALIDATION_SIZE
      + " = auto: 10,000 from 40,000 training images on, else an eighth)")
  Integer validationSize;

  @Option(names = "--stop-loss", description = "stop when the training loss falls below this (default "
      + Defaults.STOP_TRAIN_LOSS + " = never)")
  Double stopLoss;

  @Option(names = "--divergence-factor", paramLabel = "F",
      description = "stop as diverged (exit 3) when the training loss exceeds F x max(initial loss, ln classes)"
          + " (default " + Defaults.DIVERGENCE_FACTOR + "; 0 = only NaN/infinity)")
  Double divergenceFactor;

  @Option(names = "--init-model", paramLabel = "FILE",
      description = "start from this safetensors model (pathsgd or PyTorch nn.Sequential names; F32, F64, F16, BF16); "
          + "its widths are the architecture unless --hidden is given, and then they must agree")
  Path initModel;

  @Option(names = "--steps", paramLabel = "K",
      description = "stop after K optimizer steps in all (the last epoch may be partial; default: no step budget)")
  Integer steps;

  @Option(names = "--no-norms", description = "do not record the network's norms after every epoch (split model)")
  boolean noNorms;

  @Option(names = "--out", paramLabel = "DIR", description = "output folder (default runs/train-RUNID); a folder "
      + "holding another run is refused (see --replace); a finished run of the same config is done: nothing is trained")
  Path out;

  @Option(names = "--replace", description = "train even when --out holds another run or this finished run: its files "
      + "are moved into DIR/replaced-RUNID/ first")
  boolean replace;

  @Option(names = "--save-model", paramLabel = "FILE",
      description = "write the final network in safetensors format (layers.{i}.weight [out,in] or, conv, "
          + "[out,in,kh,kw]; layers.{i}.bias)")
  Path saveModel;

  @Option(names = "--quiet", description = "no progress output, only the summary")
  boolean quiet;

  @Override
  public Integer call() throws IOException {
    TrainConfig base = config == null ? TrainConfig.empty() : Configs.readTrainConfig(config);
    Map<String, Object> m = new LinkedHashMap<>(Configs.toMap(base));
    put(m, "dataset", dataset);
    put(m, "data_dir", dataDir == null ? null : dataDir.toString());
    if (hidden != null && layers != null) {
      throw new IllegalArgumentException("--hidden and --layers: give one of them, not both");
    }
    put(m, "hidden", hidden);
    put(m, "layers", layers);
    if (hidden != null) { // a flag replaces the config file's network
      m.remove("layers");
    } else if (layers != null) {
      m.remove("hidden");
    }
    put(m, "optimizer", optimizer);
    put(m, "lr", lr);
    put(m, "momentum", momentum);
    put(m, "nesterov", nesterov);
    put(m, "p", p);
    put(m, "init", init);
    if (unbalanceFraction != null && unbalanceCount != null) {
      throw new IllegalArgumentException("--unbalance-fraction and --unbalance-count: give one of them, not both");
    }
    if (unbalanceFraction != null || unbalanceCount != null) { // a flag replaces the config file's density
      m.put("unbalance_fraction", unbalanceFraction);
      m.put("unbalance_count", unbalanceCount);
    }
    put(m, "unbalance_factor", unbalanceFactor);
    put(m, "unbalance_mu", unbalanceMu);
    put(m, "unbalance_sigma", unbalanceSigma);
    put(m, "batch_size", batchSize);
    put(m, "epochs", epochs);
    put(m, "dropout", dropout);
    put(m, "seed", seed);
    put(m, "input_dropout", inputDropout);
    put(m, "kappa_every", kappaEvery);
    put(m, "clip_norm", clipNorm);
    put(m, "kappa2", kappa2);
    put(m, "standardize", standardize);
    put(m, "downsample", downsample);
    put(m, "grayscale", grayscale);
    put(m, "per_class_train", perClassTrain);
    put(m, "threads", threads);
    put(m, "validation_size", validationSize);
    put(m, "stop_train_loss", stopLoss);
    put(m, "divergence_factor", divergenceFactor);
    if (initModel != null) { // another file than the config's: its digest is the new file's
      m.put("init_model", initModel.toString());
      m.put("init_model_sha256", null);
    }
    put(m, "max_steps", steps);
    if (noNorms) {
      m.put("record_norms", false);
    }
    Defaults.applyTrainCommand(m); // this command's own defaults (tuned for the bundled sample)
    // an init model's widths become hidden (or are checked against it), and its content the run id's
    Components.BoundModel bound = Components.bind(Configs.fromMap(m, TrainConfig.class));
    TrainConfig cfg = bound.config().resolve();
    String runId = ConfigHash.runId(cfg);
    Path dir = out != null ? out : Path.of("runs", "train-" + runId);
    checkOutputs(dir, saveModel);
    JsonNode finished = existingRun(dir, runId, replace);
    if (finished != null) { // a finished run of this config: done, as a sweep skips it
      if (saveModel != null && !Files.exists(saveModel)) {
        throw new IllegalArgumentException("--save-model: " + dir + " holds run " + runId + ", finished ("
            + finished.path("status").asText() + ") without writing " + saveModel + "; add --replace to train it "
            + "again and save the model");
      }
      System.out.println("pathsgd train " + runId + ": already finished in " + dir + " (" + finished.path("status")
          .asText() + ", " + finished.path("epochs_completed").asText("?") + " epochs; " + dir.resolve("summary.json")
          + "); nothing to train. To train it again: --replace, or another --out");
      return 0;
    }

    long t0 = System.nanoTime();
    DataSplits data = Components.loadData(cfg);
    double loadSeconds = (System.nanoTime() - t0) / 1e9;
    // builds the initial network; --init unbalanced is refused here (one line naming the largest factor), before
    // anything is written
    Trainer trainer = Components.trainer(cfg, data);
    if (!quiet) {
      System.out.println(banner(runId, cfg, data, trainer, loadSeconds));
      System.out.println(settings(cfg, dir));
      if (bound.model() != null) {
        System.out.println("init model " + cfg.initModel() + ": " + bound.model().mapping() + ", SHA-256 "
            + bound.model().sha256().substring(0, 12) + "...");
      }
    }
    TrainingListener shown = quiet ? TrainingListener.NONE : new Progress(System.out, runId, false, cfg.batchSize(),
        null);
    Path ckpt = RunDirectory.checkpoint(dir);
    // Ctrl-C or SIGTERM: say where the run stopped and how to resume (the JVM runs this hook on both)
    WhereStopped where = new WhereStopped();
    TrainingListener progress = io.github.pathsgd.train.listener.Listeners.compose(where, shown);
    Thread hook = new Thread(() -> System.err.println(where.line(runId, ckpt)), "pathsgd-stop-report");
    Runtime.getRuntime().addShutdownHook(hook);
    // the end of a run, in an order that loses nothing: the model first, then summary.json (which says the run is
    // complete), and only then the checkpoint goes. A failed model write leaves the checkpoint and no summary, so the
    // rerun resumes at the end instead of training again.
    RunDirectory.Finished done;
    try {
      done = RunDirectory.run(cfg, trainer, data, dir, progress, result -> {
        if (saveModel != null) {
          try {
            SafeTensors.write(result.network(), saveModel, Map.of("pathsgd_run_id", runId, "pathsgd_dataset",
                cfg.dataset(), "pathsgd_optimizer", cfg.optimizer(), "pathsgd_epochs",
                String.valueOf(result.epochsCompleted()), "pathsgd_status", result.status()));
          } catch (java.io.UncheckedIOException | OutputTarget.Refused e) {
            throw new IllegalStateException("--save-model: " + e.getMessage() + (Files.exists(ckpt) ? "; the "
                + "checkpoint " + ckpt + " is kept: rerun with another --save-model to write the model without "
                + "training again" : ""), e);
          }
        }
      });
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // the JVM is shutting down already: the hook reports
      }
    }
    RunResult result = done.result();
    Map<String, Object> summary = done.summary();
    System.out.println(Configs.compact(summary));
    if (!quiet) {
      System.out.println(wrote(dir, saveModel));
    }
    return RunResult.COMPLETED.equals(result.status()) ? 0 : 3;
  }

  /**
   * What the run folder {@code dir} holds, for a run of {@code runId}: null when it holds no run, the unfinished run of
   * this config (which resumes from its checkpoint), or (with {@code replace}) another run, whose files are moved into
   * {@code dir/replaced-ID/} first; the summary.json of this config's finished run (which is done).
   *
   * @throws IllegalArgumentException one line naming both run ids when {@code dir} holds another run and not {@code
   *     replace}
   */
  static JsonNode existingRun(Path dir, String runId, boolean replace) throws IOException {
    Path cj = dir.resolve("config.json");
    Path sj = dir.resolve("summary.json");
    if (!Files.isRegularFile(cj) && !Files.isRegularFile(sj)) {
      return null;
    }
    String other;
    try {
      JsonNode c = Configs.json().readTree(Files.readAllBytes(Files.isRegularFile(cj) ? cj : sj));
      other = c.path("run_id").asText("");
    } catch (IOException | RuntimeException e) {
      other = "";
    }
    boolean same = other.equals(runId);
    JsonNode summary = null;
    if (same && Files.isRegularFile(sj)) {
      try {
        summary = Configs.json().readTree(Files.readAllBytes(sj));
      } catch (IOException | RuntimeException e) {
        summary = null;
      }
    }
    if (same && summary == null) {
      return null; // this config's unfinished run: it resumes from its checkpoint
    }
    if (!replace) {
      if (same) {
        return summary;
      }
      throw new IllegalArgumentException("--out: " + dir + " holds " + (other.isEmpty() ? "a run whose config.json "
          + "names no run id" : "run " + other) + ", not this run " + runId + " (another config); give another --out, "
          + "or add --replace to move its files into " + dir.resolve("replaced-" + (other.isEmpty() ? "run" : other))
          + "/ and train this one");
    }
    Path keep = dir.resolve("replaced-" + (other.isEmpty() ? "run" : other));
    for (int k = 2; Files.exists(keep, java.nio.file.LinkOption.NOFOLLOW_LINKS); k++) {
      keep = dir.resolve("replaced-" + (other.isEmpty() ? "run" : other) + "-" + k);
    }
    Files.createDirectory(keep);
    for (String f : RunWriter.FILES) {
      Path p = dir.resolve(f);
      if (Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        Files.move(p, keep.resolve(f), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      }
    }
    System.out.println("--replace: moved the files of run " + (other.isEmpty() ? "(no run id)" : other) + " in " + dir
        + " into " + keep);
    return null;
  }

  /**
   * Checks every output path before the data are loaded and training starts: the run folder and its files, and the
   * model file, each by {@link OutputTarget}'s rule; and that the model is not one of the run's own files.
   *
   * @throws OutputTarget.Refused one line naming the flag, the path and what it is
   */
  static void checkOutputs(Path dir, Path model) {
    try {
      RunWriter.checkFolder(dir);
    } catch (OutputTarget.Refused e) {
      throw new OutputTarget.Refused("--out: " + e.getMessage());
    }
    if (model != null) {
      Path abs = model.toAbsolutePath().normalize();
      for (String f : RunWriter.FILES) {
        if (abs.equals(dir.resolve(f).toAbsolutePath().normalize())) {
          throw new OutputTarget.Refused("--save-model: " + model + " is the run's own " + f + "; give another name");
        }
      }
      try {
        OutputTarget.of(model);
      } catch (OutputTarget.Refused e) {
        throw new OutputTarget.Refused("--save-model: " + e.getMessage());
      }
    }
  }

  /** Where a run is: the epoch and step it is in and the last epoch its checkpoint holds. */
  static final class WhereStopped implements TrainingListener {
    volatile int epoch;
    volatile int step;
    volatile int stepsPerEpoch;
    volatile int checkpointed = -1;
    volatile int epochs;

    @Override
    public void onStart(int firstEpoch, int epochs, int stepsPerEpoch) {
      this.epoch = firstEpoch;
      this.epochs = epochs;
      this.stepsPerEpoch = stepsPerEpoch;
      this.checkpointed = firstEpoch - 1;
    }

    @Override
    public void onStep(int epoch, int step, double loss) {
      this.epoch = epoch;
      this.step = step;
    }

    @Override
    public void onCheckpoint(int epoch) {
      this.checkpointed = epoch;
    }

    /** The line printed when the JVM is stopped (Ctrl-C, SIGTERM) before the run ends. */
    String line(String runId, Path ckpt) {
      String held = checkpoint(ckpt);
      return "pathsgd train " + runId + ": stopped " + at() + (held != null ? "; " + held + ": rerun the same command "
          + "to resume from there" : "; no epoch checkpoint yet: rerunning the same command starts it again");
    }

    /** Where the run is: "in epoch E of N (step S of M)", or "before training started". */
    String at() {
      return epochs == 0 ? "before training started" : "in epoch " + epoch + " of " + epochs + " (step " + step
          + " of " + stepsPerEpoch + ")";
    }

    /**
     * What the checkpoint {@code ckpt} holds: "CKPT holds epoch K" once this run has written one, "CKPT is on disk"
     * (an earlier process's, which the run resumes from) before training started; null when there is none.
     */
    String checkpoint(Path ckpt) {
      if (!java.nio.file.Files.exists(ckpt)) {
        return null;
      }
      if (checkpointed >= 1) {
        return ckpt + " holds epoch " + checkpointed;
      }
      if (epochs == 0) {
        return ckpt + " is on disk";
      }
      // written, but stopped before the trainer told us (the file is renamed into place before onCheckpoint): what
      // the file itself holds
      try {
        int e = io.github.pathsgd.train.checkpoint.Checkpoint.read(ckpt).epoch();
        return e >= 1 ? ckpt + " holds epoch " + e : null;
      } catch (java.io.IOException | RuntimeException e) {
        return null;
      }
    }
  }

  /**
   * The banner's first line: the run, the network and the data ({@code loadSeconds} NaN: the load time is left out, as
   * in the README's example, which is generated from a run folder that does not record it).
   */
  static String banner(String runId, TrainConfig cfg, DataSplits data, Trainer trainer, double loadSeconds) {
    return String.format(Locale.ROOT, "pathsgd train %s: %s on %s (%d train, %s validation, %d test%s)", runId,
        cfg.layers() != null ? "layers " + cfg.layers().get(0) + " (input " + data.train().channels() + "x"
            + data.train().height() + "x" + data.train().width() + ")" : trainer.network().layout(), cfg.dataset(),
        data.train().n(), data.validation() == null ? "0" : String.valueOf(data.validation().n()), data.test().n(),
        Double.isNaN(loadSeconds) ? "" : String.format(Locale.ROOT, "; loaded in %.1fs", loadSeconds));
  }

  /** The banner's second line: the optimizer and the settings, and where the results go. */
  static String settings(TrainConfig cfg, Path dir) {
    return "optimizer " + cfg.optimizer() + " lr " + cfg.lr() + (cfg.momentum() > 0 ? " momentum " + cfg.momentum()
        : "") + ", init " + initText(cfg) + ", batch " + cfg.batchSize() + ", dropout " + cfg.dropout() + ", seed "
        + cfg.seed() + "; results in " + dir;
  }

  /** The last line of a run: the files it wrote. */
  static String wrote(Path dir, Path saveModel) {
    return "wrote " + dir.resolve("metrics.csv") + ", " + dir.resolve("config.json") + ", " + dir.resolve(
        "summary.json") + (saveModel != null ? " and the model " + saveModel : "");
  }

  /** The banner's init: "balanced", or the init model's file (and "rescaled unbalanced" when it is). */
  static String initText(TrainConfig cfg) {
    if (cfg.initModel() == null) {
      return cfg.init();
    }
    return "model " + cfg.initModel() + ("unbalanced".equals(cfg.init()) ? " rescaled unbalanced" : "");
  }

  private static void put(Map<String, Object> m, String key, Object v) {
    if (v != null) {
      m.put(key, v);
    }
  }
}
