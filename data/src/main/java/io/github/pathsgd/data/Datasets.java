package io.github.pathsgd.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The data set registry: names, where their files are looked for, and {@link #load(DataRequest)}.
 *
 * <h2>Names</h2>
 * {@code mnist}, {@code mnist-sample} (8,000/2,000 MNIST digits bundled in the jar, no data folder needed),
 * {@code fashion-mnist}, {@code cifar10}, {@code cifar100} (fine labels), {@code svhn}; variants
 * {@code cifar100-coarse} (20 superclass labels) and {@code svhn-extra} (train + {@code extra_32x32.mat}).
 *
 * <h2>Where files are looked for</h2>
 * The base folder is {@link DataRequest#dataDir()} if given, else the environment variable {@code PATHSGD_DATA},
 * else {@code ~/.pathsgd/data}. Files are looked for directly in it and in a subfolder named after the data set
 * ({@code <base>/cifar10/}), plus the folder names of the official archives ({@code cifar-10-batches-bin},
 * {@code cifar-100-binary}) and, for Fashion-MNIST, {@code /usr/share/datasets/fashion-mnist} (Debian package
 * {@code dataset-fashion-mnist}). The first folder that holds a complete layout wins. If that folder has a
 * {@code SHA256SUMS} file ({@code sha256sum} format), every file read that it lists is checked against it.
 *
 * <h2>Layouts</h2>
 * <ul>
 *   <li>MNIST, Fashion-MNIST: {@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte},
 *       {@code t10k-images-idx3-ubyte}, {@code t10k-labels-idx1-ubyte}, each with or without {@code .gz} (also the
 *       {@code train-images.idx3-ubyte} spelling);</li>
 *   <li>CIFAR-10: {@code data_batch_1.bin} ... {@code data_batch_5.bin} + {@code test_batch.bin}, or
 *       {@code train.bin[.gz]} + {@code test.bin[.gz]};</li>
 *   <li>CIFAR-100: {@code train.bin[.gz]} + {@code test.bin[.gz]};</li>
 *   <li>SVHN: {@code train_32x32.mat} + {@code test_32x32.mat} (+ {@code extra_32x32.mat}).</li>
 * </ul>
 *
 * <h2>Splits</h2>
 * See {@link Resampling#validationSplit}: the last {@code validationSize} indices of a
 * {@code SplittableRandom(seed)} Fisher-Yates permutation of the training indices go to validation, the rest stay
 * in training, both in file order; a size of {@link DataRequest#AUTO} is {@link #autoValidationSize} of the training
 * set's size. Then {@link Preprocessing} is applied.
 */
public final class Datasets {
  /** Environment variable naming the data folder. */
  public static final String ENV = "PATHSGD_DATA";
  /** Folder installed by the Debian package {@code dataset-fashion-mnist}. */
  public static final Path DEBIAN_FASHION = Path.of("/usr/share/datasets/fashion-mnist");
  static final String SAMPLE_RESOURCE = "io/github/pathsgd/data/mnist-sample/";

  private static final List<String> NAMES =
      List.of("mnist", "mnist-sample", "fashion-mnist", "cifar10", "cifar100", "svhn");
  private static final List<String> VARIANTS = List.of("cifar100-coarse", "svhn-extra", "seqmnist", "seqmnist-14",
      "seqmnist-sample", "seqmnist-sample-14", "adding-100", "adding-400", "adding-750");
  /** The adding problem's training and test sizes ({@link #adding}). */
  public static final int ADDING_TRAIN = 10_000;
  public static final int ADDING_TEST = 1_000;
  /** The seeds of the adding problem's training and test sequences: fixed, so every run sees the same data. */
  public static final long ADDING_TRAIN_SEED = 1;
  public static final long ADDING_TEST_SEED = 2;
  /** The longest adding problem a name may ask for. */
  public static final int ADDING_MAX_STEPS = 10_000;

  /** The largest SHA256SUMS file read (a line per data file: a few hundred bytes). */
  static final int MAX_SUMS_BYTES = 1 << 20;

  private Datasets() {}

  /** The six data set names: mnist, mnist-sample, fashion-mnist, cifar10, cifar100, svhn. */
  public static List<String> names() {
    return NAMES;
  }

  /**
   * Extra names accepted by {@link #load}: cifar100-coarse, svhn-extra, and sequential MNIST ({@link SequentialMnist}:
   * {@code seqmnist}, T = 784; {@code seqmnist-14}, downsampled to 14x14 first, T = 196; {@code seqmnist-sample} and
   * {@code seqmnist-sample-14} from the bundled mnist-sample), whose images are 1 x T x 1 (T steps of one feature),
   * and the adding problem {@code adding-100}, {@code adding-400}, {@code adding-750} (any {@code adding-T}, 2 ≤ T ≤
   * {@value #ADDING_MAX_STEPS}, is accepted; {@link #adding}), 1 x T x 2 with real targets.
   */
  public static List<String> variants() {
    return VARIANTS;
  }

  /** {@code dataDir} if not null, else {@code $PATHSGD_DATA}, else {@code ~/.pathsgd/data}. */
  public static Path baseDir(Path dataDir) {
    if (dataDir != null) {
      return dataDir;
    }
    String env = System.getenv(ENV);
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    return Path.of(System.getProperty("user.home"), ".pathsgd", "data");
  }

  /** The folders searched for a data set, in order. */
  public static List<Path> searchDirs(String dataset, Path dataDir) {
    String canon = canonical(dataset);
    Path base = baseDir(dataDir);
    LinkedHashSet<Path> dirs = new LinkedHashSet<>();
    dirs.add(base);
    dirs.add(base.resolve(canon));
    switch (canon) {
      case "cifar10" -> {
        dirs.add(base.resolve("cifar-10-batches-bin"));
        dirs.add(base.resolve("cifar10").resolve("cifar-10-batches-bin"));
      }
      case "cifar100" -> {
        dirs.add(base.resolve("cifar-100-binary"));
        dirs.add(base.resolve("cifar100").resolve("cifar-100-binary"));
      }
      case "fashion-mnist" -> dirs.add(DEBIAN_FASHION);
      default -> { }
    }
    return new ArrayList<>(dirs);
  }

  static String canonical(String dataset) {
    String d = dataset.toLowerCase(Locale.ROOT).strip();
    if (addingSteps(d) > 0) {
      throw new DataException(dataset + " is generated from a seed (the adding problem); it has no files to look for "
          + "or download");
    }
    return switch (d) {
      case "cifar100-coarse" -> "cifar100";
      case "svhn-extra" -> "svhn";
      case "seqmnist", "seqmnist-14" -> "mnist"; // the same files, read as sequences ({@link #sequential})
      case "seqmnist-sample", "seqmnist-sample-14" -> "mnist-sample";
      default -> {
        if (!NAMES.contains(d)) {
          List<String> all = new java.util.ArrayList<>(NAMES);
          all.addAll(VARIANTS);
          throw new DataException("unknown data set '" + dataset + "'" + Suggest.hint(
              d, all) + "; known: " + NAMES + " and " + VARIANTS + ", or the path of a .npz file, a folder of .npy "
              + "files or an image folder");
        }
        yield d;
      }
    };
  }

  /**
   * A user's own data named by its path: a NumPy {@code .npz} file or a folder of {@code x_train.npy} ...
   * ({@link NumpyDatasets}), or an image folder with {@code train/} and {@code test/} (or {@code val/}) class
   * subfolders ({@link ImageFolders}); null when {@code dataset} is not such a path (then it is a registry name).
   */
  static Raw readOwn(String dataset) {
    Path p;
    try {
      p = Path.of(dataset);
    } catch (java.nio.file.InvalidPathException e) {
      return null;
    }
    boolean npz = dataset.toLowerCase(Locale.ROOT).endsWith(".npz");
    if (!npz && !java.nio.file.Files.isDirectory(p)) {
      return null;
    }
    if (npz && !java.nio.file.Files.exists(p)) {
      throw new DataException(dataset + ": no such NumPy archive (a data set named by a path must exist)");
    }
    String name = p.getFileName() == null ? dataset : p.getFileName().toString();
    NumpyDatasets.Read r;
    if (NumpyDatasets.accepts(p)) {
      r = NumpyDatasets.read(p, name);
    } else if (ImageFolders.accepts(p)) {
      r = ImageFolders.read(p, name);
    } else {
      throw new DataException(dataset + ": a folder given as a data set must hold x_train.npy, y_train.npy, "
          + "x_test.npy, y_test.npy (NumPy) or train/ and test/ (or val/) class folders of images");
    }
    return new Raw(r.train(), r.test(), r.files());
  }

  /** Train and test as read, plus the files behind them. */
  record Raw(Dataset train, Dataset test, Map<String, String> files) {}

  /** Reads the train and test sets of a data set without any split or preprocessing. */
  static Raw readRaw(String dataset, Path dataDir) {
    Raw own = readOwn(dataset);
    if (own != null) {
      return own;
    }
    String d = dataset.toLowerCase(Locale.ROOT).strip();
    if (d.startsWith("seqmnist") && VARIANTS.contains(d)) {
      return sequential(d, dataDir);
    }
    int steps = addingSteps(d);
    if (steps > 0) {
      return adding(d, steps);
    }
    String canon = canonical(d);
    Map<String, String> files = new LinkedHashMap<>();
    if (canon.equals("mnist-sample")) {
      RawFile[] r = new RawFile[4];
      String[] names = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
          "t10k-labels-idx1-ubyte.gz"};
      for (int i = 0; i < 4; i++) {
        r[i] = RawFile.resource(Datasets.class, SAMPLE_RESOURCE + names[i]);
        files.put(r[i].source(), r[i].sha256());
      }
      return new Raw(IdxReader.parse(r[0], r[1], d + "/train", 10), IdxReader.parse(r[2], r[3], d + "/test", 10),
          files);
    }
    Map<String, Path> loc = DatasetFiles.locate(d, dataDir);
    Map<String, String> sums = DatasetFiles.sha256Sums(loc.values().iterator().next().getParent());
    Map<String, RawFile> raw = new LinkedHashMap<>();
    for (var e : loc.entrySet()) {
      RawFile.SizeRule rule = e.getKey().endsWith("-images") ? IdxReader.IMAGES_SIZE
          : e.getKey().endsWith("-labels") ? IdxReader.LABELS_SIZE : null;
      RawFile f = RawFile.read(e.getValue(), rule);
      String want = sums.get(e.getValue().getFileName().toString());
      if (want != null && !want.equals(f.sha256())) {
        throw new DataException(f.source() + ": SHA-256 checksum mismatch: expected " + want + " (from "
            + e.getValue().resolveSibling("SHA256SUMS") + "), got " + f.sha256());
      }
      files.put(f.source(), f.sha256());
      raw.put(e.getKey(), f);
    }
    Dataset train;
    Dataset test;
    switch (d) {
      case "mnist", "fashion-mnist" -> {
        train = IdxReader.parse(raw.get("train-images"), raw.get("train-labels"), d + "/train", 10);
        test = IdxReader.parse(raw.get("test-images"), raw.get("test-labels"), d + "/test", 10);
      }
      case "cifar10" -> {
        List<RawFile> tr = new ArrayList<>();
        for (var e : raw.entrySet()) {
          if (e.getKey().startsWith("train")) {
            tr.add(e.getValue());
          }
        }
        train = CifarReader.parse(tr, d + "/train", 1, 0, 10);
        test = CifarReader.parse(List.of(raw.get("test")), d + "/test", 1, 0, 10);
      }
      case "cifar100", "cifar100-coarse" -> {
        boolean coarse = d.endsWith("coarse");
        train = CifarReader.parse(List.of(raw.get("train")), d + "/train", 2, coarse ? 0 : 1, coarse ? 20 : 100);
        test = CifarReader.parse(List.of(raw.get("test")), d + "/test", 2, coarse ? 0 : 1, coarse ? 20 : 100);
      }
      case "svhn", "svhn-extra" -> {
        train = SvhnReader.parse(raw.get("train"), d + "/train");
        if (raw.containsKey("extra")) {
          train = SvhnReader.concat(d + "/train", train, SvhnReader.parse(raw.get("extra"), d + "/extra"));
        }
        test = SvhnReader.parse(raw.get("test"), d + "/test");
      }
      default -> throw new DataException("unknown data set '" + dataset + "'");
    }
    requireSameShape(train, test, files.keySet());
    return new Raw(train, test, files);
  }

  /**
   * Sequential MNIST ({@link SequentialMnist#of}): each image of mnist (or mnist-sample) as a sequence of T = side²
   * pixels, held as a 1 x T x 1 image (height = time steps, width = features per step), label kept.
   */
  private static Raw sequential(String d, Path dataDir) {
    Raw base = readRaw(d.contains("sample") ? "mnist-sample" : "mnist", dataDir);
    int side = d.endsWith("-14") ? 14 : 28;
    return new Raw(asImages(SequentialMnist.of(base.train(), side), d + "/train"),
        asImages(SequentialMnist.of(base.test(), side), d + "/test"), base.files());
  }

  private static Dataset asImages(SequenceDataset s, String name) {
    if (!s.classification()) { // real targets: one class, every label 0
      return new Dataset(name, s.x(), new int[s.n()], s.n(), 1, s.steps(), s.features(), 1, s.targets());
    }
    return new Dataset(name, s.x(), s.labels(), s.n(), 1, s.steps(), s.features(), s.numClasses());
  }

  /**
   * T of an adding-problem name {@code adding-T} (lower case); 0 when {@code d} is not one. A T outside 2..{@value
   * #ADDING_MAX_STEPS} is refused by name.
   */
  static int addingSteps(String d) {
    if (!d.matches("adding-[0-9]{1,9}")) {
      return 0;
    }
    int t = Integer.parseInt(d.substring("adding-".length()));
    if (t < 2 || t > ADDING_MAX_STEPS) {
      throw new DataException("data set " + d + ": T = " + t + " steps, expected adding-T with 2 <= T <= "
          + ADDING_MAX_STEPS);
    }
    return t;
  }

  /**
   * The adding problem of T steps ({@link AddingProblem#generate}): {@value #ADDING_TRAIN} training sequences from
   * seed {@value #ADDING_TRAIN_SEED} and {@value #ADDING_TEST} test sequences from seed {@value #ADDING_TEST_SEED},
   * whatever the run's seed (which splits off the validation part as for every data set), held as 1 x T x 2 images
   * with real targets ({@link Dataset#targets()}). No files: the provenance names the generator.
   */
  private static Raw adding(String d, int steps) {
    Dataset train = asImages(AddingProblem.generate(d + "/train", ADDING_TRAIN, steps, ADDING_TRAIN_SEED), d
        + "/train");
    Dataset test = asImages(AddingProblem.generate(d + "/test", ADDING_TEST, steps, ADDING_TEST_SEED), d + "/test");
    return new Raw(train, test, Map.of());
  }

  /** The provenance line of a generated adding problem. */
  static String addingProvenance(int steps) {
    return "AddingProblem.generate(T=" + steps + "): train " + ADDING_TRAIN + " sequences from seed "
        + ADDING_TRAIN_SEED + ", test " + ADDING_TEST + " from seed " + ADDING_TEST_SEED;
  }

  /**
   * Refuses a test set that does not match the training set in channels, height, width and class count: rows of a
   * different size would be read misaligned, and a network trained on one cannot be evaluated on the other.
   */
  static void requireSameShape(Dataset train, Dataset test, java.util.Collection<String> files) {
    if (train.channels() != test.channels() || train.height() != test.height() || train.width() != test.width()
        || train.numClasses() != test.numClasses()) {
      List<String> f = new ArrayList<>(files);
      String trainFiles = String.join(", ", f.stream().filter(x -> !isTestFile(x)).toList());
      String testFiles = String.join(", ", f.stream().filter(Datasets::isTestFile).toList());
      throw new DataException(test.name() + " (" + testFiles + ") has images of " + shape(test)
          + " but " + train.name() + " (" + trainFiles + ") has " + shape(train)
          + "; train and test must agree in channels, height, width and class count");
    }
  }

  private static boolean isTestFile(String path) {
    String n = Path.of(path.replace("classpath:", "")).getFileName().toString();
    return n.startsWith("t10k") || n.startsWith("test");
  }

  /** "1 x 28 x 28 (channels x height x width), 10 classes". */
  static String shape(Dataset d) {
    return d.channels() + " x " + d.height() + " x " + d.width() + " (channels x height x width), " + d.numClasses()
        + " classes";
  }

  /**
   * The automatic validation size ({@link DataRequest#AUTO}) for a training set of {@code trainImages} images: 10,000
   * from 40,000 images on (the paper's MNIST, CIFAR and SVHN splits), else an eighth, rounded down (1,000 of the
   * bundled sample's 8,000; 500 of a 4,000-image CIFAR-10 copy).
   */
  public static int autoValidationSize(int trainImages) {
    return trainImages >= 40_000 ? 10_000 : trainImages / 8;
  }

  /**
   * Loads a data set: reads train and test, carves the validation split from train, then applies the
   * preprocessing (see {@link Preprocessing}).
   *
   * @throws DataException for an unknown name, missing or malformed files, a checksum mismatch, train and test of
   *     different shapes, an empty train or test set, a validation size not below the training size, a
   *     {@code perClassTrain} above the smallest class of the training split, or a {@code downsample} side larger
   *     than the images
   */
  public static DataSplits load(DataRequest r) {
    Raw raw = readRaw(r.dataset(), r.dataDir());
    Preprocessing p = r.preprocessing();
    String files = String.join(", ", raw.files().keySet());
    if (raw.train().n() == 0 || raw.test().n() == 0) {
      Dataset empty = raw.train().n() == 0 ? raw.train() : raw.test();
      throw new DataException(empty.name() + " has no images (" + files + "); expected at least one");
    }
    if (p.downsample() > Math.min(raw.train().height(), raw.train().width())) {
      throw new DataException("downsample " + p.downsample() + " is larger than the " + raw.train().height() + " x "
          + raw.train().width() + " images of " + r.dataset() + "; expected 1.."
          + Math.min(raw.train().height(), raw.train().width()) + " (0 = off)");
    }
    boolean auto = r.validationSize() == DataRequest.AUTO;
    int validationSize = auto ? autoValidationSize(raw.train().n()) : r.validationSize();
    if (validationSize >= raw.train().n()) {
      throw new DataException("validation size " + validationSize + (auto ? " (automatic)" : " (validation_size)")
          + " is not below the " + raw.train().n() + " images of " + raw.train().name() + "; expected 0.."
          + (raw.train().n() - 1) + " (the rest is the training split)");
    }
    Dataset[] tv = Resampling.validationSplit(raw.train(), validationSize, r.seed());
    Dataset train = tv[0];
    Dataset val = tv[1];
    Dataset test = raw.test();
    if (p.perClassTrain() > 0) {
      int[] h = train.classHistogram();
      int smallest = 0;
      for (int c = 1; c < h.length; c++) {
        if (h[c] < h[smallest]) {
          smallest = c;
        }
      }
      if (p.perClassTrain() > h[smallest]) {
        throw new DataException("per_class_train " + p.perClassTrain() + " is more than the " + h[smallest]
            + " images of class " + smallest + " in " + train.name() + " (" + train.n() + " images after "
            + validationSize + " went to validation); expected at most " + h[smallest] + " (0 = all)");
      }
      train = Resampling.perClass(train, p.perClassTrain(), r.seed());
    }
    if (p.grayscale()) {
      train = Resampling.grayscale(train);
      val = val == null ? null : Resampling.grayscale(val);
      test = Resampling.grayscale(test);
    }
    if (p.downsample() > 0) {
      train = Resampling.downsample(train, p.downsample());
      val = val == null ? null : Resampling.downsample(val, p.downsample());
      test = Resampling.downsample(test, p.downsample());
    }
    Map<String, String> prov = new LinkedHashMap<>();
    prov.put("dataset", r.dataset());
    prov.put("files", String.join(", ", raw.files().keySet()));
    for (var e : raw.files().entrySet()) {
      prov.put("sha256 " + e.getKey(), e.getValue());
    }
    if (train.regression()) {
      prov.put("generator", addingProvenance(train.height()));
    }
    prov.put("split", "validation = last " + validationSize + " of SplittableRandom(" + r.seed()
        + ") Fisher-Yates permutation of the " + raw.train().n() + " training indices; both parts in file order");
    if (p.standardize()) {
      double[][] st = Resampling.channelStats(train);
      train = Resampling.standardize(train, st[0], st[1]);
      val = val == null ? null : Resampling.standardize(val, st[0], st[1]);
      test = Resampling.standardize(test, st[0], st[1]);
      prov.put("standardize.mean", Arrays.toString(st[0]));
      prov.put("standardize.std", Arrays.toString(st[1]));
    }
    prov.put("preprocessing", p.describe());
    if (train.regression()) { // the baseline an MSE is read against: predicting the constant 1 on each split
      prov.put("baseline_mse.train", Double.toString(train.constantMse(1)));
      if (val != null) {
        prov.put("baseline_mse.validation", Double.toString(val.constantMse(1)));
      }
      prov.put("baseline_mse.test", Double.toString(test.constantMse(1)));
    }
    prov.put("train", train.n() + " " + Arrays.toString(train.classHistogram()));
    if (val != null) {
      prov.put("validation", val.n() + " " + Arrays.toString(val.classHistogram()));
    }
    prov.put("test", test.n() + " " + Arrays.toString(test.classHistogram()));
    return new DataSplits(train, val, test, Collections.unmodifiableMap(prov));
  }
}
