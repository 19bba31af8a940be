package io.github.pathsgd.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a data set's files are: the file names each layout of a data set accepts, the search for them over the data
 * folders ({@link Datasets#searchDirs}), and the {@code SHA256SUMS} file that may vouch for them.
 */
final class DatasetFiles {
  private DatasetFiles() {}

  /** One role (e.g. train images) and the accepted file names for it. */
  record Role(String role, List<String> names) {}

  /** Roles per layout, per data set. */
  static List<List<Role>> layouts(String dataset) {
    String d = dataset.toLowerCase(Locale.ROOT).strip();
    return switch (d) {
      case "mnist", "fashion-mnist" -> List.of(List.of(idx("train-images", "train-images", 3),
          idx("train-labels", "train-labels", 1), idx("test-images", "t10k-images", 3),
          idx("test-labels", "t10k-labels", 1)));
      case "cifar10" -> {
        List<Role> a = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
          a.add(new Role("train-" + i, List.of("data_batch_" + i + ".bin", "data_batch_" + i + ".bin.gz")));
        }
        a.add(new Role("test", List.of("test_batch.bin", "test_batch.bin.gz")));
        yield List.of(a, binLayout());
      }
      case "cifar100", "cifar100-coarse" -> List.of(binLayout());
      case "svhn" -> List.of(List.of(new Role("train", List.of("train_32x32.mat")),
          new Role("test", List.of("test_32x32.mat"))));
      case "svhn-extra" -> List.of(List.of(new Role("train", List.of("train_32x32.mat")),
          new Role("extra", List.of("extra_32x32.mat")), new Role("test", List.of("test_32x32.mat"))));
      default -> throw new DataException("data set '" + dataset + "' has no file layout");
    };
  }

  private static List<Role> binLayout() {
    return List.of(new Role("train", List.of("train.bin.gz", "train.bin")),
        new Role("test", List.of("test.bin.gz", "test.bin")));
  }

  private static Role idx(String role, String stem, int dims) {
    return new Role(role, List.of(stem + "-idx" + dims + "-ubyte.gz", stem + "-idx" + dims + "-ubyte",
        stem + ".idx" + dims + "-ubyte.gz", stem + ".idx" + dims + "-ubyte"));
  }

  /** The files found for a data set: role to path, all in one folder. */
  static Map<String, Path> locate(String dataset, Path dataDir) {
    String canon = Datasets.canonical(dataset);
    List<Path> dirs = Datasets.searchDirs(canon, dataDir);
    List<List<Role>> layouts = layouts(dataset);
    Path base = dirs.get(0);
    if (Files.exists(base) && !Files.isDirectory(base)) {
      String p = InputFiles.problem(base);
      throw new DataException("data folder " + base + " is " + (p == null ? "a file" : "not a folder: " + p)
          + "; expected the folder that holds the " + dataset + " files (--data-dir, data_dir or " + Datasets.ENV
          + ")");
    }
    for (Path dir : dirs) {
      if (!Files.isDirectory(dir)) {
        continue;
      }
      for (List<Role> layout : layouts) {
        Map<String, Path> found = new LinkedHashMap<>();
        for (Role r : layout) {
          for (String n : r.names()) {
            Path p = dir.resolve(n);
            if (Files.isRegularFile(p)) {
              found.put(r.role(), p);
              break;
            }
            if (Files.exists(p) || Files.isSymbolicLink(p)) { // there, but not a file that can be read
              throw new DataException(p + ": " + InputFiles.problem(p) + "; it is where the " + r.role()
                  + " file of " + dataset + " is looked for");
            }
          }
        }
        if (found.size() == layout.size()) {
          return found;
        }
      }
    }
    // one line of what a user needs: where it looked, the files (first name of each; docs/data.md has the other
    // spellings), how to get them
    List<String> searched = new ArrayList<>();
    boolean noneThere = dirs.stream().noneMatch(Files::isDirectory);
    for (Path dir : dirs) {
      searched.add(dir + (noneThere || Files.isDirectory(dir) ? "" : " (no such folder)"));
    }
    List<String> layoutNames = new ArrayList<>();
    for (List<Role> layout : layouts) {
      List<String> first = new ArrayList<>();
      for (Role r : layout) {
        first.add(r.names().get(0));
      }
      layoutNames.add(String.join(", ", first));
    }
    StringBuilder sb = new StringBuilder("data set '" + dataset + "' not found. Searched: " + searched
        + (noneThere ? " (no such folders)" : "") + ". Expected " + String.join(" or ", layoutNames)
        + " (docs/data.md). "
        + "Fetch them with 'pathsgd data download " + baseName(dataset) + "' or put them into " + dirs.get(1)
        + ".");
    throw new DataMissingException(sb.toString());
  }

  /** Parses a {@code SHA256SUMS} file in {@code dir} (file name to hex), or an empty map if there is none. */
  static Map<String, String> sha256Sums(Path dir) {
    Path f = dir.resolve("SHA256SUMS");
    if (!Files.exists(f) && !Files.isSymbolicLink(f)) {
      return Map.of();
    }
    String problem = InputFiles.problem(f);
    if (problem != null) { // a checksum file that cannot be read must not be skipped silently
      throw new DataException(f + ": " + problem);
    }
    Map<String, String> m = new HashMap<>();
    try {
      int ln = 0;
      byte[] text;
      try {
        text = InputFiles.readBounded(f, Datasets.MAX_SUMS_BYTES, "checksum");
      } catch (IllegalArgumentException e) {
        throw new DataException(e.getMessage());
      }
      for (String line : new String(text, java.nio.charset.StandardCharsets.UTF_8).split("\\R")) {
        ln++;
        String s = line.strip();
        if (s.isEmpty() || s.startsWith("#")) {
          continue;
        }
        String[] parts = s.split("\\s+", 2);
        if (parts.length != 2 || !parts[0].matches("[0-9a-fA-F]{64}")) {
          throw new DataException(f + ": line " + ln + " is not '<64 hex digits>  <file name>'");
        }
        String name = parts[1].startsWith("*") ? parts[1].substring(1) : parts[1];
        m.put(Path.of(name).getFileName().toString(), parts[0].toLowerCase(Locale.ROOT));
      }
    } catch (IOException e) {
      throw new DataException(f + ": cannot read: " + InputFiles.reason(e), e);
    }
    return m;
  }

  /** The dataset a variant name downloads as ({@code cifar100-coarse} → {@code cifar100}). */
  static String baseName(String dataset) {
    return dataset.startsWith("cifar100") ? "cifar100" : dataset.startsWith("svhn") ? "svhn" : dataset;
  }
}
