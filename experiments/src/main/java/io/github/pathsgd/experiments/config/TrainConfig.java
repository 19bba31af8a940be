package io.github.pathsgd.experiments.config;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.github.pathsgd.core.geometry.Unbalance;
import io.github.pathsgd.core.nn.LayerSpec;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Everything that defines one training run. On disk (YAML or JSON) the keys are snake_case ({@code batch_size},
 * {@code data_dir}); unknown keys are rejected. A component left out (null) takes the default that {@link #resolve()}
 * fills in, and the resolved config is what a run records.
 *
 * @param dataset a built-in data set name (mnist, mnist-sample, fashion-mnist, cifar10, cifar100, svhn, and the variants
 *     cifar100-coarse, svhn-extra), matched in any case and resolved to lower case; anything else is the path of the
 *     user's own data and is kept exactly as written, case included ({@link #datasetName})
 * @param dataDir the data folder (null: $PATHSGD_DATA, then ~/.pathsgd/data)
 * @param hidden hidden-layer widths, e.g. [4000, 4000]; at most {@link #MAX_LAYERS} of them
 * @param optimizer sgd, adagrad or path-sgd
 * @param lr the step size η
 * @param momentum heavy-ball momentum μ (PyTorch convention), 0 for none; composes with every optimizer
 * @param nesterov Nesterov momentum
 * @param p the ℓp of Path-SGD (default 2)
 * @param kappaEvery recompute Path-SGD's κ every k steps (default 1)
 * @param pathRatio the authors' code's global "ratio" rescaling for Path-SGD (default false; breaks exact invariance)
 * @param pathBiases count biases as edges from a constant-1 unit in Path-SGD's κ (default true)
 * @param adagradEps AdaGrad's ε, outside the square root (default 1e-10)
 * @param init balanced or unbalanced
 * @param unbalanceFraction the unbalanced init's density relative to the width: round(f·n_l) picks in each hidden
 *     layer l (half up), uniform within that layer, with replacement (default 0.25, the authors' MATLAB demo: 1000 +
 *     1000 for 2×4000; null when {@code unbalance_count} is set)
 * @param unbalanceCount an absolute total instead of {@code unbalance_fraction}: this many picks, uniform over all
 *     hidden units of all hidden layers, with replacement (the only density before 0.25 per layer became the default,
 *     with 2000); unset by default. Set one of the two, not both. See {@code Rescaling.unbalance}
 * @param unbalanceFactor "10c" (factor 10·c) or "10^c" (factor 10^c), c ~ LogNormal(μ, σ)
 * @param unbalanceMu μ of the log-normal (default 0)
 * @param unbalanceSigma σ of the log-normal (default 1)
 * @param batchSize mini-batch size (default 100)
 * @param epochs epoch budget
 * @param dropout drop probability of hidden units, as in PyTorch (0 = off; the chapter's "retain 0.5" is 0.5)
 * @param inputDropout drop probability of the input features (default 0)
 * @param seed the one seed every random stream derives from
 * @param threads OpenBLAS threads (0 = all cores)
 * @param validationSize rows held out of the training set for validation (-1 = auto: 10,000 for training sets of
 *     40,000 images or more, else an eighth, rounded down; with {@code per_class_train} N an eighth of 10·N; 0 = none)
 * @param stopTrainLoss stop when the epoch's training loss falls below this (0 = never)
 * @param stopAtZeroTrainError stop when the training error reaches 0
 * @param standardize per-channel standardization with training statistics
 * @param downsample downsample images to k×k by area averaging (0 = off)
 * @param grayscale convert colour images to grey
 * @param perClassTrain class-balanced training subset, N per class (0 = all)
 * @param trainEval how train loss/error are measured per epoch: "full" (a clean pass over the training set after the
 *     epoch, no dropout) or "running" (the mean over the epoch's mini-batches)
 * @param divergenceFactor the divergence bound: a run whose mini-batch or epoch training loss exceeds this factor
 *     times max(initial training loss, ln of the class count) stops with status diverged, as for a NaN loss (default
 *     1000; 0 = off, only NaN and infinity)
 * @param layers a network of layers instead of {@code hidden}: a {@code LayerSpec} such as {@code
 *     conv(16,3,pad=1),avgpool(2),dense(128)}, as one string or a list of items (joined with commas; at most {@link
 *     #MAX_LAYERS} items); resolved to the
 *     spec's canonical text; the input shape comes from the data set and the output layer is added. Unset (null, the
 *     default): the fully connected network of {@code hidden}; not hashed then, so existing run ids stay
 * @param initModel start from this safetensors model instead of a fresh initialization (unset by default): pathsgd or
 *     PyTorch {@code nn.Sequential} names, F32/F64/F16/BF16; its widths are the architecture ({@code hidden}, when
 *     set, must agree); {@code init: unbalanced} rescales it. Not hashed: {@code init_model_sha256} is
 * @param initModelSha256 the SHA-256 of the {@code init_model} file, filled in when the config is bound to the file
 *     ({@code Components.bindInitModel}); when given, the file must still have it
 * @param maxSteps the step budget: stop after this many optimizer steps in all (unset: none); the epoch it ends in is
 *     recorded as a partial epoch
 * @param recordNorms record the network's norms after every epoch in metrics.csv, split model (default true; hashed
 *     only when false)
 * @param pinThreads true: the BLAS thread count {@code threads} is part of the run's identity (hashed, so the same
 *     config with 1 and with 2 threads are two runs with two folders: a float32 noise floor), and a sweep's
 *     {@code --jobs} leaves it as it is; unset (null, the default) or false: {@code threads} does not change the run id
 * @param clipNorm clip the mini-batch gradient to this global ℓ2 norm before the optimizer (before Path-SGD's
 *     division by κ; the IRNN protocol's 1); unset (the default): no clipping; hashed only when set
 * @param kappa2 Path-SGD on an {@code rnn} layer adds the cross term κ^(2) to κ^(1) (p = 1 or 2; optimizer path-sgd
 *     only): {@link #resolve()} moves it into {@code layers} as {@code rnn(H,kappa2)} and clears it, so that the two
 *     spellings are one run id
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record TrainConfig(
    String dataset,
    String dataDir,
    List<Integer> hidden,
    String optimizer,
    Double lr,
    Double momentum,
    Boolean nesterov,
    Double p,
    Integer kappaEvery,
    Boolean pathRatio,
    Boolean pathBiases,
    Double adagradEps,
    String init,
    Double unbalanceFraction,
    Integer unbalanceCount,
    String unbalanceFactor,
    Double unbalanceMu,
    Double unbalanceSigma,
    Integer batchSize,
    Integer epochs,
    Double dropout,
    Double inputDropout,
    Long seed,
    Integer threads,
    Integer validationSize,
    Double stopTrainLoss,
    Boolean stopAtZeroTrainError,
    Boolean standardize,
    Integer downsample,
    Boolean grayscale,
    Integer perClassTrain,
    String trainEval,
    Double divergenceFactor,
    @JsonFormat(with = {JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY,
        JsonFormat.Feature.WRITE_SINGLE_ELEM_ARRAYS_UNWRAPPED}) List<String> layers,
    String initModel,
    String initModelSha256,
    Integer maxSteps,
    Boolean recordNorms,
    Boolean pinThreads,
    Double clipNorm,
    Boolean kappa2) {

  public static final Set<String> OPTIMIZERS = Set.of("sgd", "adagrad", "path-sgd");
  public static final Set<String> INITS = Set.of("balanced", "unbalanced", "irnn");
  /** The most OpenBLAS threads a config may ask for. */
  public static final int MAX_THREADS = 1024;
  /** The most hidden layers a network may have, in {@code hidden} or {@code layers} ({@link LayerSpec#MAX_LAYERS}). */
  public static final int MAX_LAYERS = LayerSpec.MAX_LAYERS;

  /**
   * The data set a {@code dataset} value names: a built-in name (or variant) in any case, stripped and lower-cased
   * ({@code MNIST} is {@code mnist}); any other value is a path and is returned exactly as written, so that
   * {@code /x/Data.npz} is never read as {@code /x/data.npz}. Null stays null.
   */
  public static String datasetName(String dataset) {
    if (dataset == null) {
      return null;
    }
    String d = dataset.strip().toLowerCase(Locale.ROOT);
    return io.github.pathsgd.data.Datasets.names().contains(d) || io.github.pathsgd.data.Datasets.variants()
        .contains(d) ? d : dataset;
  }

  /**
   * The library's defaults ({@link Defaults}), resolved: what a config that sets no key runs. {@code pathsgd train}
   * sets a few more over them ({@link Defaults#applyTrainCommand}).
   */
  public static TrainConfig defaults() {
    return empty().resolve();
  }

  /** A config with every component null (to be overridden, then resolved). */
  public static TrainConfig empty() {
    return new TrainConfig(null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
        null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
        null, null, null, null, null, null, null, null);
  }

  private static <T> T or(T v, T d) {
    return v == null ? d : v;
  }

  /** Fills in the defaults and validates every value; throws {@link ConfigException} naming the bad field. */
  public TrainConfig resolve() {
    String opt = or(optimizer, Defaults.OPTIMIZER).toLowerCase(Locale.ROOT);
    if (unbalanceFraction != null && unbalanceCount != null) {
      throw new ConfigException("unbalance_count", "set unbalance_fraction (picks per hidden layer, relative to its "
          + "width) or unbalance_count (an absolute total over all hidden layers), not both");
    }
    if (layers != null && hidden != null && !hidden.isEmpty()) {
      throw new ConfigException("layers", "set hidden (a fully connected network) or layers, not both");
    }
    checkHidden(hidden);
    List<String> lays = layers == null ? null : List.of(layerSpec().toString());
    if (Boolean.TRUE.equals(kappa2)) { // the optimizer option, written into the rnn item (one run id for both forms)
      if (!opt.equals("path-sgd")) {
        throw new ConfigException("kappa2", "Path-SGD's cross term κ^(2); expected optimizer path-sgd, got " + opt);
      }
      if (lays == null || !lays.get(0).matches("rnn\\([0-9]+(,kappa2)?\\).*")) {
        throw new ConfigException("kappa2", "κ^(2) is the cross term of an rnn layer; expected layers that start with "
            + "rnn(H), got " + (lays == null ? "a fully connected network (hidden)" : lays.get(0)));
      }
      double pp = or(p, Defaults.P);
      if (pp != 1 && pp != 2) {
        throw new ConfigException("kappa2", "κ^(2) is implemented for p = 1 and 2; got p = " + pp);
      }
      lays = List.of(lays.get(0).replaceFirst("^rnn\\(([0-9]+)\\)", "rnn($1,kappa2)"));
    }
    TrainConfig r = new TrainConfig(
        datasetName(or(dataset, Defaults.DATASET)),
        dataDir,
        layers != null ? List.of() : List.copyOf(or(hidden, Defaults.HIDDEN)),
        opt,
        or(lr, opt.equals("adagrad") ? Defaults.LR_ADAGRAD : Defaults.LR),
        or(momentum, Defaults.MOMENTUM),
        or(nesterov, Defaults.NESTEROV),
        or(p, Defaults.P),
        or(kappaEvery, Defaults.KAPPA_EVERY),
        or(pathRatio, Defaults.PATH_RATIO),
        or(pathBiases, Defaults.PATH_BIASES),
        or(adagradEps, Defaults.ADAGRAD_EPS),
        or(init, Defaults.INIT).toLowerCase(Locale.ROOT),
        unbalanceCount == null ? or(unbalanceFraction, Defaults.UNBALANCE_FRACTION) : null,
        unbalanceCount,
        or(unbalanceFactor, Defaults.UNBALANCE_FACTOR),
        or(unbalanceMu, Defaults.UNBALANCE_MU),
        or(unbalanceSigma, Defaults.UNBALANCE_SIGMA),
        or(batchSize, Defaults.BATCH_SIZE),
        or(epochs, Defaults.EPOCHS),
        or(dropout, Defaults.DROPOUT),
        or(inputDropout, Defaults.INPUT_DROPOUT),
        or(seed, Defaults.SEED),
        or(threads, Defaults.THREADS),
        or(validationSize, Defaults.VALIDATION_SIZE),
        or(stopTrainLoss, Defaults.STOP_TRAIN_LOSS),
        or(stopAtZeroTrainError, Defaults.STOP_AT_ZERO_TRAIN_ERROR),
        or(standardize, Defaults.STANDARDIZE),
        or(downsample, Defaults.DOWNSAMPLE),
        or(grayscale, Defaults.GRAYSCALE),
        or(perClassTrain, Defaults.PER_CLASS_TRAIN),
        or(trainEval, Defaults.TRAIN_EVAL).toLowerCase(Locale.ROOT),
        or(divergenceFactor, Defaults.DIVERGENCE_FACTOR),
        lays,
        initModel, initModelSha256, maxSteps, or(recordNorms, Defaults.RECORD_NORMS),
        pinThreads, clipNorm, null);
    r.validate();
    return r;
  }

  /**
   * Refuses, before anything is copied or allocated, a {@code hidden} list longer than {@link #MAX_LAYERS} and a
   * missing (null) width, naming its position.
   */
  private static void checkHidden(List<Integer> hidden) {
    if (hidden == null) {
      return;
    }
    if (hidden.size() > MAX_LAYERS) {
      throw new ConfigException("hidden", "expected at most " + MAX_LAYERS + " hidden layers, got a list of "
          + hidden.size() + " widths");
    }
    for (int i = 0; i < hidden.size(); i++) {
      if (hidden.get(i) == null) {
        throw new ConfigException("hidden[" + i + "]", "expected a positive integer width, got null");
      }
    }
  }

  private void validate() {
    // no hidden layer is allowed: a linear softmax model
    long between = 0; // weights between hidden layers: a lower bound on the parameter count, known before the data
    for (int i = 0; i < hidden.size(); i++) {
      Integer h = hidden.get(i);
      if (h == null || h <= 0) {
        throw new ConfigException("hidden", "widths must be positive integers, got " + hidden);
      }
      between += i == 0 ? 0 : (long) hidden.get(i - 1) * h;
    }
    if (between > io.github.pathsgd.core.nn.DenseChain.MAX_PARAMS) {
      throw new ConfigException("hidden", "widths " + hidden + " need " + between + " weights between the hidden "
          + "layers alone, more than the " + io.github.pathsgd.core.nn.DenseChain.MAX_PARAMS + " parameters a "
          + "network can have (one float32 buffer of at most 2^31 - 1 bytes); use smaller widths");
    }
    if (!OPTIMIZERS.contains(optimizer)) {
      throw new ConfigException("optimizer", "expected one of sgd, adagrad, path-sgd, got '" + optimizer + "'");
    }
    if (!INITS.contains(init)) {
      throw new ConfigException("init", "expected balanced, unbalanced or irnn, got '" + init + "'");
    }
    if (init.equals("irnn") && (layers == null || !layers.get(0).startsWith("rnn("))) {
      throw new ConfigException("init", "irnn (W_rec = I, b = 0, W_in ~ N(0, 0.001²)) initializes an rnn layer; "
          + "expected layers that start with rnn(H), got " + (layers == null ? "a fully connected network (hidden)"
              : layers.get(0)));
    }
    if (init.equals("irnn") && initModel != null) {
      throw new ConfigException("init", "irnn draws a fresh network; expected no init_model with it");
    }
    if (clipNorm != null && (!(clipNorm > 0) || Double.isInfinite(clipNorm))) {
      throw new ConfigException("clip_norm", "expected a positive finite gradient norm (unset = no clipping), got "
          + clipNorm);
    }

    positive("lr", lr);
    if (lr < Float.MIN_NORMAL || lr > Float.MAX_VALUE) {
      throw new ConfigException("lr", "expected a step size in the float32 range " + Float.MIN_NORMAL + " .. "
          + Float.MAX_VALUE + " (the step is taken in float32), got " + lr);
    }
    if (!(momentum >= 0 && momentum < 1)) {
      throw new ConfigException("momentum", "expected a value in [0, 1), got " + momentum);
    }
    if (nesterov && momentum == 0) {
      throw new ConfigException("nesterov", "Nesterov momentum needs momentum > 0");
    }
    if (!(p >= 1) || Double.isInfinite(p)) {
      throw new ConfigException("p", "expected a finite p >= 1, got " + p);
    }
    if (kappaEvery < 1) {
      throw new ConfigException("kappa_every", "expected an integer >= 1, got " + kappaEvery);
    }
    positive("adagrad_eps", adagradEps + 1e-300);
    if (unbalanceFraction != null && (!(unbalanceFraction >= 0) || Double.isInfinite(unbalanceFraction))) {
      throw new ConfigException("unbalance_fraction", "expected a finite fraction >= 0 of each hidden layer's units, "
          + "got " + unbalanceFraction);
    }
    if (unbalanceFraction != null) {
      for (Integer h : hidden) {
        if (Math.rint(unbalanceFraction * h) > Integer.MAX_VALUE) {
          throw new ConfigException("unbalance_fraction", unbalanceFraction + " of a hidden layer of " + h
              + " units is " + Math.rint(unbalanceFraction * h) + " picks, more than " + Integer.MAX_VALUE);
        }
      }
    }
    if (unbalanceCount != null && unbalanceCount < 0) {
      throw new ConfigException("unbalance_count", "expected >= 0, got " + unbalanceCount);
    }
    try {
      Unbalance.FactorForm.parse(unbalanceFactor); // the one parser of 10c / 10^c
    } catch (IllegalArgumentException e) {
      throw new ConfigException("unbalance_factor", afterLabel(e));
    }
    if (!Double.isFinite(unbalanceMu)) {
      throw new ConfigException("unbalance_mu", "expected a finite number, got " + unbalanceMu);
    }
    if (!(unbalanceSigma >= 0) || Double.isInfinite(unbalanceSigma)) {
      throw new ConfigException("unbalance_sigma", "expected a finite number >= 0, got " + unbalanceSigma);
    }
    if (batchSize < 1) {
      throw new ConfigException("batch_size", "expected a positive integer, got " + batchSize);
    }
    if (epochs < 1) {
      throw new ConfigException("epochs", "expected a positive integer, got " + epochs);
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new ConfigException("dropout", "expected a drop probability in [0, 1), got " + dropout);
    }
    if (!(inputDropout >= 0 && inputDropout < 1)) {
      throw new ConfigException("input_dropout", "expected a drop probability in [0, 1), got " + inputDropout);
    }
    if (threads < 0 || threads > MAX_THREADS) {
      throw new ConfigException("threads", "expected 0.." + MAX_THREADS + " (0 = all cores), got " + threads);
    }
    if (validationSize < -1) {
      throw new ConfigException("validation_size", "expected >= 0, or -1 for auto, got " + validationSize);
    }
    if (!(stopTrainLoss >= 0) || Double.isInfinite(stopTrainLoss)) {
      throw new ConfigException("stop_train_loss", "expected a finite number >= 0 (0 = never), got " + stopTrainLoss);
    }
    if (downsample < 0) {
      throw new ConfigException("downsample", "expected a side length >= 1, or 0 for off, got " + downsample);
    }
    if (perClassTrain < 0) {
      throw new ConfigException("per_class_train", "expected >= 1 images per class, or 0 for all, got "
          + perClassTrain);
    }
    if (!trainEval.equals("full") && !trainEval.equals("running")) {
      throw new ConfigException("train_eval", "expected full or running, got '" + trainEval + "'");
    }
    if (!(divergenceFactor == 0 || divergenceFactor >= 1) || Double.isInfinite(divergenceFactor)) {
      throw new ConfigException("divergence_factor", "expected 0 (off) or a finite factor >= 1, got "
          + divergenceFactor);
    }
    if (initModel != null && initModel.isBlank()) {
      throw new ConfigException("init_model", "expected the path of a .safetensors file, got an empty string");
    }
    if (initModelSha256 != null && (initModel == null || !initModelSha256.matches("[0-9a-f]{64}"))) {
      throw new ConfigException("init_model_sha256", initModel == null ? "set without init_model"
          : "expected 64 lowercase hex digits, got '" + initModelSha256 + "'");
    }
    if (maxSteps != null && maxSteps < 1) {
      throw new ConfigException("max_steps", "expected a positive number of optimizer steps, got " + maxSteps);
    }
    if (Boolean.TRUE.equals(pinThreads) && threads < 1) {
      throw new ConfigException("threads", "pin_threads needs a thread count >= 1 (0 = all cores is not one count), "
          + "got " + threads);
    }
  }

  /**
   * The parsed {@code layers} (null when unset); a parse error is a {@link ConfigException} on {@code layers} naming
   * the item and what was expected.
   */
  public LayerSpec layerSpec() {
    if (layers == null) {
      return null;
    }
    for (String s : layers) {
      if (s == null) {
        throw new ConfigException("layers", "expected a string or a list of strings, got a null item");
      }
    }
    try {
      return LayerSpec.parse(String.join(",", layers));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("layers", afterLabel(e));
    }
  }

  /** "expected ..., got ..." of a message "what: expected ..., got ...". */
  static String afterLabel(IllegalArgumentException e) {
    String m = String.valueOf(e.getMessage());
    return m.substring(m.indexOf(": ") + 2);
  }

  private static void positive(String field, double v) {
    if (!(v > 0) || Double.isInfinite(v)) {
      throw new ConfigException(field, "expected a positive finite number, got " + v);
    }
  }

  /** The widths n_0..n_L for a given input size and class count. */
  public int[] widths(int inputs, int classes) {
    int[] w = new int[hidden.size() + 2];
    w[0] = inputs;
    for (int i = 0; i < hidden.size(); i++) {
      w[i + 1] = hidden.get(i);
    }
    w[w.length - 1] = classes;
    return w;
  }
}
