package io.github.pathsgd.experiments.config;

import static io.github.pathsgd.core.optim.Transforms.chain;
import static io.github.pathsgd.core.optim.Transforms.scale;
import static io.github.pathsgd.core.optim.Transforms.scaleByRss;
import static io.github.pathsgd.core.optim.Transforms.trace;

import io.github.pathsgd.core.geometry.ChannelRescaling;
import io.github.pathsgd.core.geometry.Rescaling;
import io.github.pathsgd.core.geometry.Unbalance;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.nn.Recurrent;
import io.github.pathsgd.core.optim.Chain;
import io.github.pathsgd.core.optim.ClipByNorm;
import io.github.pathsgd.core.optim.GradientTransform;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.optim.PathSgdOptions;
import io.github.pathsgd.core.rnn.RnnInit;
import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.data.DataException;
import io.github.pathsgd.data.DataRequest;
import io.github.pathsgd.data.DataSplits;
import io.github.pathsgd.data.Dataset;
import io.github.pathsgd.data.Datasets;
import io.github.pathsgd.data.Preprocessing;
import io.github.pathsgd.model.SafeTensors;
import io.github.pathsgd.train.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a {@link TrainConfig} names, built: the data request and the data, the initial network (balanced or the
 * paper's unbalanced rescaling of it), the optimizer, and a {@link Trainer} over them. The one place that maps config
 * keys onto the core and data packages.
 */
public final class Components {
  private Components() {}

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

  /** The data request a config makes, with its validation size ({@link #validationSize}). */
  public static DataRequest dataRequest(TrainConfig cfg) {
    return dataRequest(cfg, validationSize(cfg));
  }

  /** The data request a config makes, with an explicit validation size (0 = train on everything). */
  public static DataRequest dataRequest(TrainConfig cfg, int validationSize) {
    Preprocessing pre = new Preprocessing(cfg.standardize(), cfg.downsample(), cfg.grayscale(), cfg.perClassTrain());
    return new DataRequest(cfg.dataset(), cfg.dataDir() == null ? null : Path.of(cfg.dataDir()), validationSize,
        cfg.seed(), pre);
  }

  /** Loads the data a config asks for; an auto validation size that does not fit says where it came from. */
  public static DataSplits loadData(TrainConfig cfg) {
    int v = validationSize(cfg);
    try {
      return Datasets.load(dataRequest(cfg, v));
    } catch (DataException e) {
      if (cfg.validationSize() < 0 && e.getMessage().startsWith("validation size ")) { // say where the size came from
        throw new DataException(e.getMessage() + " (validation_size -1 = auto chose " + v
            + (cfg.perClassTrain() > 0 ? ", 10/8 of per_class_train " + cfg.perClassTrain() : "")
            + "; set validation_size / --validation-size)", e);
      }
      throw e;
    }
  }

  /** Loads the data a config asks for, with an explicit validation size (0 = train on everything). */
  public static DataSplits loadData(TrainConfig cfg, int validationSize) {
    return Datasets.load(dataRequest(cfg, validationSize));
  }

  /**
   * The initial network for a config: balanced (stream {@code init}) or the bound {@code init_model} ({@link
   * #bindInitModel}; its input width must be the data's and its output width the class count), or the paper's
   * unbalanced rescaling of either (stream {@code unbalance}; its check's random inputs from {@code unbalance}'s split
   * {@code check}).
   *
   * @throws Rescaling.Refused if the unbalanced rescaling overflows, underflows or is not equivalent (see {@link
   *     #applyUnbalancedInit})
   */
  public static LayerNet initialNetwork(TrainConfig cfg, int inputs, int classes) {
    DenseChain layout = new DenseChain(cfg.widths(inputs, classes));
    Rng root = new Rng(cfg.seed());
    LayerNet net = cfg.initModel() != null ? initModel(cfg, inputs, classes) : Init.balanced(layout, root.split("init"));
    if (cfg.init().equals("unbalanced")) {
      applyUnbalancedInit(net, cfg, root.split("unbalance"));
    }
    return net;
  }

  /**
   * The initial network of layers for a config with {@code layers}, for inputs of {@code channels × height × width}:
   * balanced (stream {@code init}: conv weights N(0, 1/(C·kh·kw)), dense N(0, 1/in), biases 0), or the unbalanced
   * rescaling of its channels (stream {@code unbalance}; {@link ChannelRescaling#unbalanceChecked}), with the config's
   * density, factor and log-normal.
   *
   * @throws ConfigException on {@code layers} naming the layer whose shape does not fit
   * @throws Rescaling.Refused if the unbalanced rescaling overflows, underflows or is not equivalent
   */
  public static LayerNet initialLayerNet(TrainConfig cfg, int channels, int height, int width, int classes) {
    LayerNet net;
    try {
      net = cfg.layerSpec().build(channels, height, width, classes);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("layers", TrainConfig.afterLabel(e) + " (input " + channels + "x" + height + "x"
          + width + ", " + classes + " classes)");
    }
    Rng root = new Rng(cfg.seed());
    Init.balanced(net, root.split("init"));
    if (cfg.init().equals("irnn")) {
      irnn(net, root.split("irnn"));
    }
    if (cfg.init().equals("unbalanced")) {
      ChannelRescaling.unbalanceChecked(net, unbalanceOptions(cfg), root.split("unbalance"));
    }
    return net;
  }

  /**
   * IRNN's init of the first layer, an rnn (Le, Jaitly and Hinton 2015, arXiv:1504.00941; {@code RnnInit.irnn}):
   * W_rec = I, b = 0, W_in ~ N(0, 0.001²) drawn from {@code rng} in parameter order; the layers after it keep the
   * balanced init they have.
   */
  static void irnn(LayerNet net, Rng rng) {
    if (!(net.layers().get(0) instanceof Recurrent r)) {
      throw new ConfigException("init", "irnn initializes an rnn layer; the first layer is "
          + net.layers().get(0).kind());
    }
    java.nio.FloatBuffer w = net.params().buffer();
    List<io.github.pathsgd.core.nn.ParamSlice> sl = r.paramSlices(); // weight_ih_l0, weight_hh_l0, bias_hh_l0
    io.github.pathsgd.core.nn.ParamSlice in = sl.get(0);
    io.github.pathsgd.core.nn.ParamSlice rec = sl.get(1);
    io.github.pathsgd.core.nn.ParamSlice b = sl.get(2);
    for (int i = 0; i < in.size(); i++) {
      w.put(in.offset() + i, (float) (RnnInit.IRNN_INPUT_STD * rng.nextGaussian()));
    }
    int h = r.out();
    for (int i = 0; i < rec.size(); i++) {
      w.put(rec.offset() + i, i / h == i % h ? 1f : 0f);
    }
    for (int i = 0; i < b.size(); i++) {
      w.put(b.offset() + i, 0f);
    }
  }

  /** The initial network of a config for a training set: {@link #initialNetwork} or {@link #initialLayerNet}. */
  public static Network initialNetwork(TrainConfig cfg, Dataset train) {
    cfg = cfg.resolve();
    return cfg.layers() != null
        ? initialLayerNet(cfg, train.channels(), train.height(), train.width(), train.numClasses())
        : initialNetwork(cfg, train.dim(), train.numClasses());
  }

  /**
   * The optimizer: {@code sgd} = [trace(μ)] → scale(-η); {@code adagrad} = scale_by_rss(ε) → [trace(μ)] → scale(-η);
   * {@code path-sgd} = path_normalize(p) → [trace(μ)] → scale(-η). Momentum composes with each. With {@code clip_norm}
   * c, clip_by_global_norm(c) comes first ({@link ClipByNorm}).
   */
  public static Optimizer optimizer(TrainConfig cfg) {
    Optimizer o = unclipped(cfg);
    if (cfg.clipNorm() == null) {
      return o;
    }
    // clip_norm: clip_by_global_norm first, on the raw gradient (before κ, AdaGrad's scaling and momentum)
    List<GradientTransform<?>> parts = new ArrayList<>();
    parts.add(ClipByNorm.of(cfg.clipNorm()));
    if (o.transform() instanceof Chain c) {
      parts.addAll(c.parts());
    } else {
      parts.add(o.transform());
    }
    return new Optimizer(o.name(), chain(parts.toArray(GradientTransform[]::new)), o.lr());
  }

  private static Optimizer unclipped(TrainConfig cfg) {
    List<GradientTransform> ts = new ArrayList<>();
    switch (cfg.optimizer()) {
      case "sgd":
        return Optimizers.sgd(cfg.lr(), cfg.momentum(), cfg.nesterov());
      case "adagrad":
        ts.add(scaleByRss(cfg.adagradEps(), 0.0));
        break;
      case "path-sgd":
        return Optimizers.pathSgd(cfg.lr(), pathSgdOptions(cfg), cfg.momentum(), cfg.nesterov());
      default:
        throw new ConfigException("optimizer", "unknown optimizer '" + cfg.optimizer() + "'");
    }
    if (cfg.momentum() > 0) {
      ts.add(trace(cfg.momentum(), cfg.nesterov()));
    }
    ts.add(scale(-cfg.lr()));
    return new Optimizer(cfg.optimizer(), chain(ts.toArray(GradientTransform[]::new)), cfg.lr());
  }

  /** Path-SGD's g ⊘ κ transform with the config's p, bias policy, κ cadence and ratio option; default κ floors. */
  static PathSgdOptions pathSgdOptions(TrainConfig cfg) {
    PathSgdOptions d = PathSgdOptions.DEFAULT;
    return new PathSgdOptions(cfg.p(), cfg.pathBiases(), cfg.kappaEvery(), d.absoluteFloor(), d.relativeFloor(),
        cfg.pathRatio());
  }

  /**
   * The paper's unbalanced initialization with the config's density ({@code unbalance_count}: an absolute total over
   * all hidden layers if set, else {@code unbalance_fraction} of each hidden layer), factor form and log-normal
   * parameters.
   */
  static Unbalance unbalanceOptions(TrainConfig cfg) {
    TrainConfig c = cfg.resolve();
    Unbalance.Density d = c.unbalanceCount() != null ? new Unbalance.Total(c.unbalanceCount())
        : new Unbalance.PerLayer(c.unbalanceFraction());
    return new Unbalance(d, Unbalance.FactorForm.parse(c.unbalanceFactor()), c.unbalanceMu(),
        c.unbalanceSigma());
  }

  /**
   * Applies the paper's unbalanced initialization to a balanced network, in place, with the config's density ({@code
   * unbalance_fraction} of each hidden layer, default 0.25, or an absolute {@code unbalance_count}), factor and
   * log-normal, and checks the result ({@link Rescaling#unbalanceChecked}).
   *
   * @return the per-unit products of the factors applied, {@code f[l][v]} for the hidden layers l = 1..L−1
   * @throws Rescaling.Refused (an IllegalArgumentException) if a rescaled weight or bias would overflow to infinity or
   *     underflow to zero or a subnormal float, or the result is not equivalent to the balanced network; one line
   *     naming the largest factor with its layer and unit; {@code net} is then unchanged
   */
  public static double[][] applyUnbalancedInit(LayerNet net, TrainConfig cfg, Rng rng) {
    return Rescaling.unbalanceChecked(net, unbalanceOptions(cfg), rng);
  }

  /**
   * A model file bound to a config: the config with {@code hidden} from the model (or checked against it) and {@code
   * init_model_sha256} set, and the model as read.
   */
  public record BoundModel(TrainConfig config, SafeTensors.InitModel model) {}

  /**
   * Binds a config's {@code init_model} to the file (a config without one is returned as it is): reads the model
   * ({@link SafeTensors#readInit}, every check of the reader), takes its hidden widths as {@code hidden} when that is
   * unset and otherwise requires them to agree, and sets {@code init_model_sha256} to the file's SHA-256, which the run
   * id then hashes (the content, not the path); a digest the config already holds must match the file. Call it on the
   * config before {@link TrainConfig#resolve()} fills in the default widths.
   *
   * @throws ConfigException naming the key, the file and what disagrees, or what is wrong with the file
   */
  public static TrainConfig bindInitModel(TrainConfig cfg) {
    return bind(cfg).config();
  }

  /** {@link #bindInitModel}, with the model read (null for a config without {@code init_model}). */
  public static BoundModel bind(TrainConfig cfg) {
    if (cfg.initModel() == null) {
      return new BoundModel(cfg, null);
    }
    SafeTensors.InitModel m = readModel(cfg.initModel());
    int[] w = m.network().chain().widths();
    List<Integer> hidden = new ArrayList<>();
    for (int i = 1; i < w.length - 1; i++) {
      hidden.add(w[i]);
    }
    if (cfg.hidden() != null && !cfg.hidden().equals(hidden)) {
      throw new ConfigException("hidden", "widths " + cfg.hidden() + " disagree with init_model " + cfg.initModel()
          + ", whose hidden widths are " + hidden + " (" + m.network().layout() + "); leave hidden unset to take the "
          + "model's");
    }
    if (cfg.initModelSha256() != null && !cfg.initModelSha256().equals(m.sha256())) {
      throw new ConfigException("init_model_sha256", "init_model " + cfg.initModel() + " has SHA-256 " + m.sha256()
          + ", not " + cfg.initModelSha256() + " as the config says: the file changed since the config was written");
    }
    Map<String, Object> map = Configs.toMap(cfg);
    map.put("hidden", hidden);
    map.put("init_model_sha256", m.sha256());
    return new BoundModel(Configs.fromMap(map, TrainConfig.class), m);
  }

  private static SafeTensors.InitModel readModel(String file) {
    try {
      return SafeTensors.readInit(Path.of(file));
    } catch (java.io.IOException e) {
      throw new ConfigException("init_model", String.valueOf(e.getMessage()));
    }
  }

  /** The network of a bound config's {@code init_model}, checked against the data's widths and the bound digest. */
  private static LayerNet initModel(TrainConfig cfg, int inputs, int classes) {
    SafeTensors.InitModel m = readModel(cfg.initModel());
    if (cfg.initModelSha256() != null && !cfg.initModelSha256().equals(m.sha256())) {
      throw new ConfigException("init_model_sha256", "init_model " + cfg.initModel() + " has SHA-256 " + m.sha256()
          + ", not " + cfg.initModelSha256() + ": the file changed after the run was set up");
    }
    DenseChain lay = m.network().chain();
    if (lay.inputs() != inputs || lay.outputs() != classes) {
      throw new ConfigException("init_model", cfg.initModel() + " is " + lay + ": " + lay.inputs() + " inputs and "
          + lay.outputs() + " outputs, but the data set " + cfg.dataset() + " has " + inputs + " inputs and " + classes
          + " classes");
    }
    if (!lay.equals(new DenseChain(cfg.widths(inputs, classes)))) {
      throw new ConfigException("hidden", "widths " + cfg.hidden() + " disagree with init_model " + cfg.initModel()
          + " (" + lay + ")");
    }
    return m.network();
  }

  /** A trainer for the config over already loaded data. */
  public static Trainer trainer(TrainConfig cfg, DataSplits data) {
    cfg = cfg.resolve();
    Blas.setThreads(cfg.threads());
    int classes = data.train().numClasses();
    int batch = Math.min(cfg.batchSize(), Math.max(1, data.train().n()));
    Network net;
    if (cfg.layers() != null) {
      net = initialNetwork(cfg, data.train());
      for (Layer l : net.layers()) { // every activation buffer holds batch × width floats
        if ((long) batch * l.out() > DenseChain.MAX_PARAMS) {
          throw new ConfigException("batch_size", "a batch of " + batch + " rows of " + l.out() + " activations ("
              + l.getClass().getSimpleName() + ") needs more than the " + DenseChain.MAX_PARAMS + " floats one "
              + "buffer can hold; use a smaller batch");
        }
      }
    } else {
      // the parameters and the batch's activations must each fit one buffer: refused here, before anything is
      // allocated or a run folder is made, not mid-run
      new DenseChain(cfg.widths(data.train().dim(), classes)).requireBatch(batch);
      net = initialNetwork(cfg, data.train().dim(), classes);
    }
    Optimizer opt = optimizer(cfg);
    Dropout dropout = new Dropout((float) (1 - cfg.dropout()), (float) (1 - cfg.inputDropout()));
    Trainer.Options o = new Trainer.Options(cfg.batchSize(), cfg.epochs(), dropout, cfg.seed(), cfg.stopTrainLoss(),
        cfg.stopAtZeroTrainError(), cfg.trainEval().equals("full"), 1000, cfg.divergenceFactor(), cfg.recordNorms(),
        cfg.maxSteps() == null ? 0 : cfg.maxSteps());
    return new Trainer(net, opt, data.train(), data.validation(), data.test(), o, ConfigHash.configHash(cfg));
  }
}
