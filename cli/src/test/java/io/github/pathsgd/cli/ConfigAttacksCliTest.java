package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 23, items 1, 2, 6 and three of 9, through the command line as a user types it, on files the test writes: a
 * data set path with capitals is the file named (not its lower-case twin), a {@code --set} of the data set reaches the
 * scale that lists its own, and inputs that describe unbounded work are one line naming the count and the bound,
 * before anything is written.
 */
class ConfigAttacksCliTest {
  @TempDir Path tmp;

  /** {@code k} classes of {@code side}x{@code side} uint8 images, class c bright in row c; 60 train, 20 test per class. */
  static Path npz(Path f, int k, int side) throws IOException {
    int ntr = 60 * k;
    int nte = 20 * k;
    Files.createDirectories(f.getParent());
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(f))) {
      for (String part : List.of("train", "test")) {
        int n = part.equals("train") ? ntr : nte;
        byte[] x = new byte[n * side * side];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
          y[i] = i % k;
          for (int j = 0; j < side; j++) {
            x[i * side * side + y[i] * side + j] = (byte) 200;
          }
        }
        Map<String, byte[]> arrays = Map.of("x_" + part + ".npy", InitModelCliTest.npy("|u1", new int[] {n, side,
            side}, x), "y_" + part + ".npy", InitModelCliTest.npy("<i8", new int[] {n}, InitModelCliTest.longs(y)));
        for (String name : List.of("x_" + part + ".npy", "y_" + part + ".npy")) {
          z.putNextEntry(new ZipEntry(name));
          z.write(arrays.get(name));
          z.closeEntry();
        }
      }
    }
    return f;
  }

  private static JsonNode json(Path f) throws IOException {
    return new ObjectMapper().readTree(f.toFile());
  }

  /** A refusal: exit 1, one line naming the problem, no stack trace, nothing written to {@code out}. */
  private static String refused(Path out, String... args) {
    CliTest.Result r = CliTest.run(args);
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    assertThat(r.err().lines().count()).as(r.err()).isEqualTo(1);
    assertThat(r.err()).contains(": error: ").doesNotContain("\tat ").doesNotContain("internal error");
    assertThat(out).doesNotExist();
    return r.err().strip();
  }

  @Test
  void trainReadsTheDataSetPathWithItsCapitalsNotItsLowerCaseTwin() throws IOException {
    Path upper = npz(tmp.resolve("x/Data.npz"), 4, 8); // 4 classes of 8x8
    npz(tmp.resolve("x/data.npz"), 3, 6); // the twin: 3 classes of 6x6
    Path out = tmp.resolve("out");
    CliTest.Result r = CliTest.run("train", "--dataset", upper.toString(), "--hidden", "8", "--epochs", "1",
        "--quiet", "--out", out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode c = json(out.resolve("config.json"));
    assertThat(c.at("/config/dataset").asText()).isEqualTo(upper.toString());
    assertThat(c.at("/data/dataset").asText()).isEqualTo(upper.toString());
    // 240 training images of 4 classes: 30 held out for validation (an eighth), 210 in 4 class counts
    assertThat(c.at("/data/train").asText()).matches("210 \\[\\d+, \\d+, \\d+, \\d+\\]");
    assertThat(c.at("/data/test").asText()).isEqualTo("80 [20, 20, 20, 20]");
    // a built-in name in capitals is the built-in data set, with the run id of its lower-case name
    Path a = tmp.resolve("a");
    Path b = tmp.resolve("b");
    for (Object[] o : new Object[][] {{"MNIST-Sample", a}, {"mnist-sample", b}}) {
      CliTest.Result t = CliTest.run("train", "--dataset", (String) o[0], "--hidden", "4", "--epochs", "1",
          "--per-class-train", "10", "--validation-size", "10", "--quiet", "--out", o[1].toString());
      assertThat(t.code()).as(t.err()).isZero();
    }
    assertThat(json(a.resolve("config.json")).at("/config/dataset").asText()).isEqualTo("mnist-sample");
    assertThat(json(a.resolve("config.json")).get("run_id")).isEqualTo(json(b.resolve("config.json")).get("run_id"));
  }

  @Test
  void aSweepSetOfTheDataSetReachesTheSmokeScaleAndIsPrintedBeforeItStarts() throws IOException {
    Path data = npz(tmp.resolve("own/Blobs.npz"), 4, 8);
    Path f = tmp.resolve("f.yaml");
    CliTest.Result show = CliTest.run("experiments", "show", "compare");
    Files.writeString(f, show.out());
    Path out = tmp.resolve("sweep");
    CliTest.Result r = CliTest.run("experiments", "run", f.toString(), "--scale", "smoke", "--quiet", "--set",
        "grid.dataset=[" + data + "]", "--set", "base.validation_size=20", "--set", "base.epochs=1", "--out",
        out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out().lines().findFirst().orElseThrow()).isEqualTo("pathsgd experiments run compare --scale smoke: "
        + "plans up to 12 runs (8 step-size selection runs, then up to 4 retraining runs) on " + data);
    List<Path> configs;
    try (Stream<Path> s = Files.list(out.resolve("runs"))) {
      configs = s.map(d -> d.resolve("config.json")).filter(Files::exists).toList();
    }
    assertThat(configs).hasSize(12);
    for (Path c : configs) {
      JsonNode j = json(c);
      assertThat(j.at("/config/dataset").asText()).as(c.toString()).isEqualTo(data.toString());
      assertThat(j.at("/config/epochs").asInt()).isEqualTo(1);
      assertThat(j.at("/data/test").asText()).isEqualTo("80 [20, 20, 20, 20]");
    }
  }

  @Test
  void aQuickScaleSizedByItsOwnDataSetRefusesAnUnsizedOneFromSet() throws IOException {
    Path f = tmp.resolve("f.yaml");
    Files.writeString(f, CliTest.run("experiments", "show", "compare").out());
    Path out = tmp.resolve("o");
    assertThat(refused(out, "experiments", "run", f.toString(), "--scale", "quick", "--set",
        "grid.dataset=[fashion-mnist]", "--out", out.toString())).contains("per_class_train: scale quick of compare "
        + "is sized for mnist-sample; with the data set fashion-mnist from --set nothing limits its training set")
        .contains("--set base.per_class_train=N");
    assertThat(refused(out, "experiments", "run", "compare", "--scale", "quick", "--set", "base.lr=0.5", "--out",
        out.toString())).contains("--set base.lr would not reach any run at scale quick");
  }

  @Test
  void plansPastTheBoundAreRefusedByCountBeforeAnythingIsWritten() throws IOException {
    String l = IntStream.rangeClosed(1, 200).mapToObj(Integer::toString).collect(Collectors.joining(",", "[", "]"));
    Path bomb = Files.writeString(tmp.resolve("bomb.yaml"), "name: bomb\nfigure: compare\nbase: {hidden: [2]}\n"
        + "grid: {seed: " + l + ", epochs: " + l + ", batch_size: " + l + "}\nscales:\n  smoke: {description: s}\n"
        + "  quick: {description: q}\n  paper: {description: p}\n");
    Path out = tmp.resolve("o");
    assertThat(refused(out, "experiments", "run", bomb.toString(), "--scale", "smoke", "--out", out.toString()))
        .contains("max_runs: 8000000 runs planned by " + bomb + " at scale smoke (8000000 grid points x 1 seed), "
            + "more than the bound of 10000 runs");
    assertThat(refused(out, "experiments", "run", "compare", "--scale", "quick", "--seeds", "2147483647", "--out",
        out.toString())).contains("max_runs: 25769803812 runs planned by compare at scale quick (12 grid points x "
            + "(4 step sizes + 2147483647 seeds)), more than the bound of 10000 runs");
    assertThat(refused(out, "experiments", "run", "compare", "--scale", "quick", "--max-runs", "59", "--out",
        out.toString())).contains("60 runs planned by preset compare.yaml with --set max_runs=59 at scale quick").contains("bound of 59 runs");
    assertThat(refused(out, "experiments", "show", bomb.toString())).contains("8000000 runs planned");
    // a raised bound lets a larger plan through (here only shown, not run)
    CliTest.Result ok = CliTest.run("experiments", "show", "compare", "--max-runs", "1000", "--set", "base.seed=3");
    assertThat(ok.code()).as(ok.err()).isZero();
    assertThat(ok.out()).contains("max_runs: 1000");
  }

  @Test
  void networksPastTheLayerBoundAreRefusedByCount() {
    Path out = tmp.resolve("o");
    String widths = String.join(",", Collections.nCopies(200_000, "8"));
    assertThat(refused(out, "train", "--hidden", widths, "--epochs", "1", "--quiet", "--out", out.toString()))
        .endsWith("hidden: expected at most 1000 hidden layers, got a list of 200000 widths");
    String items = String.join(",", Collections.nCopies(200_000, "dense(8)"));
    assertThat(refused(out, "train", "--layers", items, "--epochs", "1", "--quiet", "--out", out.toString()))
        .endsWith("layers: expected at most 1000 items, got 200000");
  }

  @Test
  void aNullWidthATooLargeFilterCountAndAnUnknownTagAreNamed() throws IOException {
    Path out = tmp.resolve("o");
    Path h = Files.writeString(tmp.resolve("h.yaml"), "hidden: [8, null]\nepochs: 1\n");
    assertThat(refused(out, "train", "--config", h.toString(), "--quiet", "--out", out.toString()))
        .endsWith("hidden[1]: expected a positive integer width, got null");
    assertThat(refused(out, "train", "--layers", "conv(2147483647,3)", "--epochs", "1", "--quiet", "--out",
        out.toString())).endsWith("layers: 'conv(2147483647,3)': expected conv(FILTERS,KERNEL[,stride=S][,pad=P]), "
            + "KERNEL as K or KHxKW with FILTERS at most 999999999 (got 2147483647)");
    Path t = Files.writeString(tmp.resolve("t.yaml"), "epochs: 1\nlr: !foo 0.1\n");
    assertThat(refused(out, "train", "--config", t.toString(), "--quiet", "--out", out.toString()))
        .contains(t + ": unknown YAML tag '!foo' (line 2, column 5)");
    List<String> args = new ArrayList<>(List.of("experiments", "run", "rescaling", "--scale", "smoke", "--set",
        "base.lr=!foo 0.1", "--out", out.toString()));
    assertThat(refused(out, args.toArray(new String[0]))).contains("unknown YAML tag '!foo'");
  }
}
