package io.github.pathsgd.experiments.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Config files: only regular files of at most 1 MiB are read, a FIFO is never opened; duplicate keys, trailing
 * documents and coercions between kinds are errors; every type error names the key path, the expected type and the
 * value found.
 */
class ConfigHardeningTest {
  @TempDir Path tmp;

  private Path yaml(String name, String text) throws IOException {
    return Files.writeString(tmp.resolve(name), text);
  }

  private static String readError(Path p) {
    try {
      Configs.read(p, TrainConfig.class);
    } catch (ConfigException e) {
      return e.getMessage();
    }
    throw new AssertionError("no error for " + p);
  }

  @Test
  void fifoConfigIsRefusedWithoutBlocking() throws Exception {
    Path f = tmp.resolve("run.yaml");
    Process pr;
    try {
      pr = new ProcessBuilder("mkfifo", f.toString()).start();
    } catch (IOException e) {
      Assumptions.abort("mkfifo not available: " + e.getMessage());
      return;
    }
    Assumptions.assumeTrue(pr.waitFor() == 0, "mkfifo failed; skipping");
    assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertThat(readError(f)).isEqualTo(f + ": config is a "
        + "FIFO (named pipe), expected a regular file (pipes, devices and sockets are never read: they can block "
        + "forever or never end)"));
  }

  @Test
  void deviceConfigIsRefused() throws Exception {
    Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "not root: no mknod; skipping");
    Path d = tmp.resolve("zero.yaml");
    Process pr = new ProcessBuilder("mknod", d.toString(), "c", "1", "5").start();
    Assumptions.assumeTrue(pr.waitFor() == 0, "mknod failed (no capability?); skipping");
    assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertThat(readError(d)).isEqualTo(d + ": config is a "
        + "character device, expected a regular file (pipes, devices and sockets are never read: they can block "
        + "forever or never end)"));
  }

  @Test
  void directoryAndMissingConfig() throws Exception {
    assertThat(readError(tmp)).isEqualTo(tmp + ": config is a directory, expected a file");
    assertThat(readError(tmp.resolve("no.yaml"))).isEqualTo(tmp.resolve("no.yaml") + ": config file not found");
  }

  @Test
  void largeConfigsAreRefusedBeforeParsing() throws Exception {
    // a 100 MiB single-value YAML (sparse: no disk used): refused by its size, in milliseconds
    Path big = tmp.resolve("big.yaml");
    try (RandomAccessFile raf = new RandomAccessFile(big.toFile(), "rw")) {
      raf.write("dataset: ".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      raf.setLength(100L << 20);
    }
    long t0 = System.nanoTime();
    assertThat(readError(big)).isEqualTo(big + ": config file has more than the 1048576 bytes (1 MiB) a config may "
        + "have");
    assertThat((System.nanoTime() - t0) / 1e9).isLessThan(1);
    // just over the cap: the same; a long but legal string value under it is read
    Path over = yaml("over.yaml", "dataset: " + "x".repeat(Configs.MAX_CONFIG_BYTES));
    assertThat(readError(over)).contains("more than the 1048576 bytes");
    Path under = yaml("under.yaml", "dataset: " + "x".repeat(1000) + "\n");
    assertThat(Configs.read(under, TrainConfig.class).dataset()).hasSize(1000);
  }

  @Test
  void duplicateKeysAreErrors() throws Exception {
    assertThat(readError(yaml("d.yaml", "lr: 0.1\nepochs: 3\nlr: 0.5\n"))).startsWith(tmp.resolve("d.yaml")
        + ": not valid YAML/JSON: duplicate key 'lr'").endsWith("; give each key once (line 3, column 3)");
    assertThat(readError(yaml("d.json", "{\"lr\": 0.1, \"lr\": 0.5}"))).startsWith(tmp.resolve("d.json")
        + ": not valid YAML/JSON: duplicate key 'lr'");
    assertThatThrownBy(() -> Configs.parse("hidden: [1]\nhidden: [2]\n", TrainConfig.class, "s"))
        .hasMessageContaining("duplicate key 'hidden'");
  }

  @Test
  void typeErrorsNameTheKeyTheTypeAndTheValue() throws Exception {
    assertThat(readError(yaml("h.yaml", "hidden: 64\n"))).isEqualTo("hidden: expected a list (such as [1000, 1000]), "
        + "got the integer 64 in " + tmp.resolve("h.yaml"));
    assertThat(readError(yaml("h2.yaml", "hidden: [64, abc]\n"))).isEqualTo("hidden[1]: expected an integer, got the "
        + "string 'abc' in " + tmp.resolve("h2.yaml"));
    assertThat(readError(yaml("e.yaml", "epochs: 1.5\n"))).isEqualTo("epochs: expected an integer, got the number 1.5 "
        + "in " + tmp.resolve("e.yaml"));
    assertThat(readError(yaml("e2.yaml", "epochs: 99999999999\n"))).isEqualTo("epochs: expected an integer in "
        + "-2147483648..2147483647, got 99999999999 in " + tmp.resolve("e2.yaml"));
    assertThat(readError(yaml("h3.yaml", "hidden: [10, 9999999999]\n"))).startsWith("hidden[1]: expected an integer "
        + "in -2147483648..2147483647, got 9999999999");
    assertThat(readError(yaml("l.yaml", "lr: fast\n"))).isEqualTo("lr: expected a number, got the string 'fast' in "
        + tmp.resolve("l.yaml"));
    assertThat(readError(yaml("n.yaml", "nesterov: 5\n"))).isEqualTo("nesterov: expected true or false, got the "
        + "integer 5 in " + tmp.resolve("n.yaml"));
    assertThat(readError(yaml("s.yaml", "seed: [1]\n"))).isEqualTo("seed: expected an integer, got a list in "
        + tmp.resolve("s.yaml"));
    assertThat(readError(yaml("o.yaml", "optimizer: {name: sgd}\n"))).isEqualTo("optimizer: expected a string, got a "
        + "mapping (keys name) in " + tmp.resolve("o.yaml"));
    assertThat(readError(yaml("j.json", "{\"batch_size\": \"many\"}"))).isEqualTo("batch_size: expected an integer, "
        + "got the string 'many' in " + tmp.resolve("j.json"));
    assertThat(readError(yaml("es.yaml", "epochs: ''\n"))).isEqualTo("epochs: expected an integer, got the string '' "
        + "in " + tmp.resolve("es.yaml"));
    // what still converts: an integer where a number is expected, a quoted number
    TrainConfig c = Configs.read(yaml("ok.yaml", "lr: 1\nepochs: '3'\nhidden: [8]\n"), TrainConfig.class);
    assertThat(c.lr()).isEqualTo(1.0);
    assertThat(c.epochs()).isEqualTo(3);
  }

  @Test
  void theWholeFileMustBeOneMappingOfKeys() throws Exception {
    assertThat(readError(yaml("empty.yaml", ""))).isEqualTo(tmp.resolve("empty.yaml") + ": the config is empty; "
        + "expected a mapping of keys such as 'epochs: 10'");
    assertThat(readError(yaml("comments.yaml", "# nothing\n"))).contains("the config is empty");
    assertThat(readError(yaml("list.yaml", "- 1\n- 2\n"))).isEqualTo(tmp.resolve("list.yaml") + ": expected a "
        + "mapping of keys at the top level (such as 'epochs: 10'), got a list");
    assertThat(readError(yaml("scalar.yaml", "hello\n"))).contains("got the string 'hello'");
    assertThat(readError(yaml("two.yaml", "epochs: 1\n---\nepochs: 2\n"))).startsWith(tmp.resolve("two.yaml")
        + ": not valid YAML/JSON: ");
    assertThat(readError(yaml("trail.json", "{\"epochs\": 1} {\"epochs\": 2}"))).startsWith(tmp.resolve("trail.json")
        + ": not valid YAML/JSON: ");
    assertThat(readError(yaml("deep.yaml", "hidden: " + "[".repeat(5000) + "]".repeat(5000) + "\n")))
        .startsWith(tmp.resolve("deep.yaml") + ": not valid YAML/JSON: ");
    assertThat(readError(yaml("bad.yaml", "lr: [1, 2\n"))).startsWith(tmp.resolve("bad.yaml") + ": not valid "
        + "YAML/JSON: ").contains("line ");
  }

  @Test
  void unknownKeysStillNameTheKeyAndTheFile() throws Exception {
    assertThat(readError(yaml("u.yaml", "learning_rate: 0.1\n"))).startsWith("learning_rate: unknown key in "
        + tmp.resolve("u.yaml") + " (known keys: ");
  }

  @Test
  void overridesFromAMapGetTheSameErrors() {
    assertThatThrownBy(() -> Configs.fromMap(Map.of("hidden", 64), TrainConfig.class)).isInstanceOf(
        ConfigException.class).hasMessage("hidden: expected a list (such as [1000, 1000]), got the integer 64 in the "
        + "config");
    assertThatThrownBy(() -> Configs.fromMap(Map.of("hidden", List.of(1, 2), "epochs", 2.5), TrainConfig.class))
        .hasMessage("epochs: expected an integer, got the number 2.5 in the config");
  }

  @Test
  void hostileValuesNameTheKeyAndTheValue() {
    String[][] cases = {
      {"hidden: [100000, 100000]", "hidden: widths [100000, 100000] need 10000000000 weights between the hidden "
          + "layers alone, more than the 536870911 parameters a network can have"},
      {"hidden: [0]", "hidden: widths must be positive integers, got [0]"},
      {"lr: 0", "lr: expected a positive finite number, got 0.0"},
      {"lr: -1", "lr: expected a positive finite number, got -1.0"},
      {"lr: NaN", "lr: expected a positive finite number, got NaN"},
      {"lr: 1e-50", "lr: expected a step size in the float32 range 1.17549435E-38 .. 3.4028235E38"},
      {"dropout: 1", "dropout: expected a drop probability in [0, 1), got 1.0"},
      {"dropout: 1.5", "dropout: expected a drop probability in [0, 1), got 1.5"},
      {"epochs: 0", "epochs: expected a positive integer, got 0"},
      {"batch_size: -1", "batch_size: expected a positive integer, got -1"},
      {"threads: -1", "threads: expected 0..1024 (0 = all cores), got -1"},
      {"threads: 100000", "threads: expected 0..1024 (0 = all cores), got 100000"},
      {"kappa_every: 0", "kappa_every: expected an integer >= 1, got 0"},
      {"downsample: -1", "downsample: expected a side length >= 1, or 0 for off, got -1"},
      {"per_class_train: -3", "per_class_train: expected >= 1 images per class, or 0 for all, got -3"},
      {"validation_size: -2", "validation_size: expected >= 0, or -1 for auto, got -2"},
      {"stop_train_loss: Infinity", "stop_train_loss: expected a finite number >= 0 (0 = never), got Infinity"},
      {"unbalance_mu: NaN", "unbalance_mu: expected a finite number, got NaN"},
      {"unbalance_sigma: Infinity", "unbalance_sigma: expected a finite number >= 0, got Infinity"},
      {"unbalance_fraction: 1.0e+10\nhidden: [1000]", "unbalance_fraction: 1.0E10 of a hidden layer of 1000 units is "
          + "1.0E13 picks, more than 2147483647"},
    };
    for (String[] c : cases) {
      assertThatThrownBy(() -> Configs.parse(c[0] + "\n", TrainConfig.class, "t").resolve()).as(c[0])
          .isInstanceOf(ConfigException.class).hasMessageStartingWith(c[1]);
    }
    // YAML's own .nan and .inf: the YAML reader cannot turn them into numbers; refused with the line and column
    assertThatThrownBy(() -> Configs.parse("epochs: 3\nlr: .nan\n", TrainConfig.class, "t"))
        .hasMessage("t: not valid YAML/JSON: Malformed numeric value '.nan' (line 2, column 9)");
  }
}
