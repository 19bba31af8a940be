package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.core.geometry.Equivalence;
import io.github.pathsgd.core.geometry.PathNorms;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.model.SafeTensors;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** End-to-end tests of the command line on the bundled sample (tiny networks, one epoch). */
class CliTest {
  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    PrintStream oldOut = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StringWriter err = new StringWriter();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      CommandLine cl = Main.commandLine();
      cl.setErr(new PrintWriter(err, true));
      cl.setOut(new PrintWriter(System.out, true));
      int code = cl.execute(args);
      return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString());
    } finally {
      System.setOut(oldOut);
    }
  }

  @Test
  void helpListsEveryCommandAndOption() {
    Result r = run("--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("train", "norms", "rescale", "demo", "bench", "data");
    Result t = run("train", "--help");
    assertThat(t.out()).contains("--dataset", "--data-dir", "--hidden", "--optimizer", "--lr", "--momentum",
        "--nesterov", "--batch-size", "--epochs", "--dropout", "--seed", "--threads", "--out", "--init", "--p",
        "--save-model");
  }

  @Test
  void badFlagValuesGiveOneLineErrors(@TempDir Path tmp) {
    Result a = run("train", "--hidden", "100,abc", "--out", tmp.toString());
    assertThat(a.code()).isEqualTo(2);
    assertThat(a.err()).contains("--hidden").contains("abc").doesNotContain("Exception").doesNotContain("\tat ");
    Result b = run("train", "--hidden", "100,0", "--out", tmp.toString());
    assertThat(b.code()).isEqualTo(1);
    assertThat(b.err().lines().count()).isEqualTo(1);
    assertThat(b.err()).contains("hidden").contains("positive integers");
    Result c = run("train", "--optimizer", "adam", "--out", tmp.toString());
    assertThat(c.err()).contains("optimizer").contains("adam");
    Result d = run("train", "--lr", "-1", "--out", tmp.toString());
    assertThat(d.err()).contains("lr:");
    Result e = run("norms", tmp.resolve("missing.safetensors").toString());
    assertThat(e.code()).isNotZero();
    assertThat(e.err()).contains("missing.safetensors").doesNotContain("\tat ");
    Result f = run("train", "--dataset", "cifar10", "--data-dir", tmp.toString(), "--out", tmp.resolve("o").toString());
    assertThat(f.code()).isNotZero();
    assertThat(f.err().lines().count()).isEqualTo(1);
    assertThat(f.err()).contains("cifar10").contains(tmp.toString());
  }

  @Test
  void trainWritesResultsAndModel(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("run");
    Path model = tmp.resolve("m.safetensors");
    Result r = run("train", "--hidden", "32", "--epochs", "2", "--optimizer", "path-sgd", "--lr", "0.01",
        "--out", out.toString(), "--save-model", model.toString(), "--quiet", "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode summary = Configs.json().readTree(out.resolve("summary.json").toFile());
    assertThat(summary.get("status").asText()).isEqualTo("completed");
    assertThat(summary.get("epochs_completed").asInt()).isEqualTo(2);
    assertThat(summary.at("/final/test_error").asDouble()).isBetween(0.0, 0.3);
    assertThat(summary.at("/final/train_loss").asDouble()).isPositive();
    JsonNode config = Configs.json().readTree(out.resolve("config.json").toFile());
    assertThat(config.at("/config/optimizer").asText()).isEqualTo("path-sgd");
    assertThat(config.at("/config/hidden/0").asInt()).isEqualTo(32);
    assertThat(config.at("/provenance/java_version").asText()).isNotBlank();
    assertThat(config.at("/provenance/end_time").asText()).isNotBlank();
    assertThat(config.at("/provenance/pathsgd_version").asText()).isNotBlank();
    List<String> csv = Files.readAllLines(out.resolve("metrics.csv"));
    assertThat(csv.get(0)).isEqualTo("run_id,epoch,split,metric,value");
    assertThat(csv).anyMatch(l -> l.matches("[0-9a-f]{12},2,test,error,[0-9.Ee-]+"));
    assertThat(csv).anyMatch(l -> l.matches("[0-9a-f]{12},0,train,loss,[0-9.Ee-]+"));
    assertThat(Files.exists(out.resolve("checkpoint.bin"))).isFalse();

    LayerNet net = SafeTensors.read(model).network();
    assertThat(net.chain().widths()).containsExactly(784, 32, 10);
    Result n = run("norms", model.toString(), "--json");
    assertThat(n.code()).as(n.err()).isZero();
    JsonNode norms = Configs.json().readTree(n.out());
    assertThat(norms.at("/path_norm/2").asDouble()).isCloseTo(PathNorms.phi(net, 2), within(1e-9));
    assertThat(norms.at("/path_norm/1").asDouble()).isPositive();
    assertThat(norms.at("/path_norm/inf").asDouble()).isPositive();

    Path rescaled = tmp.resolve("r.safetensors");
    Result s = run("rescale", model.toString(), "--unbalance", "--count", "50", "--out", rescaled.toString());
    assertThat(s.code()).as(s.err()).isZero();
    LayerNet r2 = SafeTensors.read(rescaled).network();
    float[] x = new float[16 * 784];
    for (int i = 0; i < x.length; i++) {
      x[i] = (i * 37 % 101) / 101f;
    }
    assertThat(Equivalence.maxOutputDifference(net, r2, x, 16)).isLessThan(1e-3);
    assertThat(PathNorms.phi(r2, 2)).isCloseTo(PathNorms.phi(net, 2), within(1e-4 * PathNorms.phi(net, 2)));
    assertThat(r2.params().toArray()).isNotEqualTo(net.params().toArray());
  }

  @Test
  void dataInfoOnTheBundledSample() {
    Result r = run("data", "info", "mnist-sample");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("8000").contains("2000").contains("801").contains("b19a4d8a909c9026");
  }

  @Test
  void benchWritesTheDocumentedJson(@TempDir Path tmp) throws Exception {
    Path json = tmp.resolve("bench.json");
    Result r = run("bench", "--arch", "30-16-4", "--steps", "3", "--threads", "1", "--json", json.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode b = Configs.json().readTree(json.toFile());
    assertThat(b.get("sgemm_peak_gflops").asDouble()).isPositive();
    assertThat(b.get("steps")).hasSize(2);
    for (JsonNode e : b.get("steps")) {
      assertThat(e.get("arch").asText()).isEqualTo("30-16-4");
      assertThat(e.get("optimizer").asText()).isIn("sgd", "path-sgd");
      assertThat(e.get("batch").asInt()).isEqualTo(100);
      assertThat(e.get("ms_per_step").asDouble()).isPositive();
      assertThat(e.get("samples_per_s").asDouble()).isPositive();
      assertThat(e.get("fraction_of_peak").asDouble()).isPositive();
    }
    assertThat(b.at("/data_loading/0/dataset").asText()).isEqualTo("mnist-sample");
    assertThat(b.at("/data_loading/0/images").asInt()).isEqualTo(10000);
    assertThat(b.get("gemm_shapes_30-16-4")).hasSize(5); // forward and weight gradient of 2 layers, input gradient of 1
    assertThat(b.at("/provenance/cpu").asText()).isNotBlank();
  }

  @Test
  void demoShowsSgdDiffersAndPathSgdAgrees() {
    Result r = run("demo", "rescaling");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("f after SGD").contains("204.02").contains("8.0000");
  }

  @Test
  void savedModelLoadsInAnIndependentReader(@TempDir Path tmp) throws Exception {
    Assumptions.assumeTrue(pythonWithNumpy(), "python3 with numpy is not installed: skipping the independent reader");
    io.github.pathsgd.core.nn.DenseChain lay = new io.github.pathsgd.core.nn.DenseChain(5, 4, 3);
    LayerNet net = io.github.pathsgd.core.nn.Init.balanced(lay, new io.github.pathsgd.core.util.Rng(1));
    net.params().set(lay.biasOffset(0), 0.5f);
    Path f = tmp.resolve("m.safetensors");
    SafeTensors.write(net, f, java.util.Map.of("note", "test"));
    Path script = tmp.resolve("read.py");
    try (var in = CliTest.class.getResourceAsStream("/read_safetensors.py")) {
      Files.copy(in, script);
    }
    Process p = new ProcessBuilder("python3", script.toString(), f.toString()).redirectErrorStream(true).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(out).isZero();
    List<String> lines = out.lines().toList();
    assertThat(lines).hasSize(4);
    assertThat(lines.get(0)).startsWith("layers.0.bias F32 [4] ");
    assertThat(lines.get(1)).startsWith("layers.0.weight F32 [4, 5] ");
    assertThat(lines.get(2)).startsWith("layers.1.bias F32 [3] ");
    assertThat(lines.get(3)).startsWith("layers.1.weight F32 [3, 4] ");
    double sum = 0;
    for (int i = 0; i < 20; i++) {
      sum += net.params().get(lay.weightOffset(0) + i);
    }
    assertThat(Double.parseDouble(lines.get(1).substring(lines.get(1).lastIndexOf(' ') + 1))).isCloseTo(sum,
        within(1e-5));
    assertThat(Double.parseDouble(lines.get(0).substring(lines.get(0).lastIndexOf(' ') + 1))).isCloseTo(0.5,
        within(1e-7));
  }

  static boolean pythonWithNumpy() {
    try {
      Process p = new ProcessBuilder(new ArrayList<>(List.of("python3", "-c", "import numpy"))).start();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (Exception e) {
      return false;
    }
  }
}
