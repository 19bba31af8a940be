package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.cli.CliTest.Result;
import io.github.pathsgd.core.geometry.Equivalence;
import io.github.pathsgd.core.geometry.Rescaling;
import io.github.pathsgd.core.geometry.Unbalance;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.model.SafeTensors;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pathsgd rescale} and {@code pathsgd train --init unbalanced}: the per-layer default density, the factors file,
 * and the refusal (non-zero exit, one line naming the largest factor with its layer and unit, nothing written).
 */
class RescaleCommandTest {
  static final DenseChain LAY = new DenseChain(784, 32, 32, 10);

  static Result run(String... args) {
    return CliTest.run(args);
  }

  /** A balanced 784-32-32-10 network written as MODEL. */
  static LayerNet writeModel(Path file) {
    LayerNet net = Init.balanced(LAY, new Rng(7));
    SafeTensors.write(net, file, Map.of());
    return net;
  }

  static List<String> files(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void theDefaultWritesAFiniteEquivalentNetworkAndFactorsThatReproduceIt(@TempDir Path tmp) throws Exception {
    Path m = tmp.resolve("m.safetensors");
    LayerNet original = writeModel(m);
    Path r = tmp.resolve("r.safetensors");
    Result res = run("rescale", m.toString(), "--unbalance", "--out", r.toString());
    assertThat(res.code()).as(res.err()).isZero();
    assertThat(res.out()).contains("wrote " + r).contains("r.factors.json").contains("largest factor");
    assertThat(files(tmp)).containsExactly("m.safetensors", "r.factors.json", "r.safetensors");

    SafeTensors.Model written = SafeTensors.read(r);
    LayerNet net = written.network();
    for (float w : net.params().toArray()) {
      assertThat(Float.isFinite(w)).isTrue();
    }
    assertThat(written.metadata()).containsEntry("pathsgd_factors", "r.factors.json")
        .containsEntry("pathsgd_unbalance", "fraction=0.25,factor=10c,mu=0.0,sigma=1.0,seed=1");
    float[] x = Rescaling.randomInputs(784, 16, new Rng(11));
    double scale = 0;
    for (float v : Equivalence.outputs(original, x, 16)) {
      scale = Math.max(scale, Math.abs(v));
    }
    assertThat(Equivalence.maxOutputDifference(original, net, x, 16)).isLessThanOrEqualTo(1e-4 * scale);
    // the same as the library call with the same seed
    LayerNet lib = original.copy();
    Rescaling.unbalance(lib, Unbalance.DEFAULT, new Rng(1));
    assertThat(net.params().toArray()).containsExactly(lib.params().toArray());

    JsonNode j = Configs.json().readTree(tmp.resolve("r.factors.json").toFile());
    assertThat(j.get("format").asText()).isEqualTo("pathsgd-rescaling-factors");
    assertThat(j.get("model").asText()).isEqualTo("r.safetensors");
    assertThat(j.get("source").asText()).isEqualTo("m.safetensors");
    assertThat(j.get("widths").toString()).isEqualTo("[784,32,32,10]");
    assertThat(j.get("seed").asLong()).isEqualTo(1);
    assertThat(j.at("/options/density").asText()).isEqualTo("per_layer");
    assertThat(j.at("/options/fraction").asDouble()).isEqualTo(0.25);
    assertThat(j.at("/options/picks").toString()).isEqualTo("[8,8]");
    assertThat(j.at("/options/factor").asText()).isEqualTo("10c");
    assertThat(j.at("/options/mu").asDouble()).isZero();
    assertThat(j.at("/options/sigma").asDouble()).isEqualTo(1.0);
    JsonNode fs = j.get("factors");
    assertThat(fs).hasSize(2);
    double[][] f = new double[LAY.layers() + 1][];
    int rescaled = 0;
    for (int l = 1; l < LAY.layers(); l++) {
      assertThat(fs.get(l - 1)).hasSize(32);
      f[l] = new double[32];
      for (int v = 0; v < 32; v++) {
        f[l][v] = fs.get(l - 1).get(v).asDouble();
        assertThat(f[l][v]).isPositive().isFinite();
        rescaled += f[l][v] != 1.0 ? 1 : 0;
      }
    }
    assertThat(rescaled).isBetween(2, 16); // 8 + 8 picks with replacement
    LayerNet again = original.copy();
    Rescaling.scaleAll(again, f);
    float[] a = again.params().toArray();
    float[] b = net.params().toArray();
    for (int i = 0; i < a.length; i++) {
      assertThat(Math.abs(a[i] - b[i])).as("param %d", i).isLessThanOrEqualTo(1e-5f * Math.abs(b[i]));
    }
  }

  @Test
  void theFormerDefaultCountIsRefusedAndNothingIsWrittenOrClobbered(@TempDir Path tmp) throws Exception {
    Path m = tmp.resolve("m.safetensors");
    writeModel(m);
    Path r = tmp.resolve("r.safetensors");
    Result res = run("rescale", m.toString(), "--unbalance", "--count", "2000", "--out", r.toString());
    assertThat(res.code()).isEqualTo(1);
    assertThat(res.err().lines().count()).isEqualTo(1);
    assertThat(res.err()).startsWith("pathsgd rescale: error: unbalanced rescaling (count 2000 over all hidden layers,"
        + " factor 10c, mu 0, sigma 1) refused: ")
        .contains("weights/biases overflow to infinity").containsPattern("largest factor [0-9.]+e\\+[0-9]+ at hidden "
            + "layer [12], unit [0-9]+ \\(of 32\\)")
        .doesNotContain("\tat ");
    assertThat(files(tmp)).containsExactly("m.safetensors");

    // existing output files stay as they were
    byte[] oldModel = Files.readAllBytes(m);
    Files.write(r, oldModel);
    Files.writeString(tmp.resolve("r.factors.json"), "{\"old\": true}\n");
    Result again = run("rescale", m.toString(), "--unbalance", "--count", "2000", "--out", r.toString());
    assertThat(again.code()).isEqualTo(1);
    assertThat(again.err()).isEqualTo(res.err());
    assertThat(Files.readAllBytes(r)).isEqualTo(oldModel);
    assertThat(Files.readString(tmp.resolve("r.factors.json"), StandardCharsets.UTF_8)).isEqualTo("{\"old\": true}\n");
    assertThat(files(tmp)).containsExactly("m.safetensors", "r.factors.json", "r.safetensors");
  }

  @Test
  void hugeFactorsAreRefused(@TempDir Path tmp) throws Exception {
    Path m = tmp.resolve("m.safetensors");
    writeModel(m);
    Path r = tmp.resolve("r.safetensors");
    // 10^c with c = e^4 ≈ 54.6: every factor ≈ 4e54, beyond float32
    Result a = run("rescale", m.toString(), "--unbalance", "--factor", "10^c", "--mu", "4", "--sigma", "0",
        "--out", r.toString());
    assertThat(a.code()).isEqualTo(1);
    assertThat(a.err().lines().count()).isEqualTo(1);
    assertThat(a.err()).contains("(fraction 0.25 per hidden layer, factor 10^c, mu 4, sigma 0) refused: ")
        .containsPattern("largest factor [0-9.]+e\\+[0-9]+ at hidden layer [12], unit [0-9]+ \\(of 32\\)");
    // c = e^6 ≈ 403: 10^403 is beyond even double
    Result b = run("rescale", m.toString(), "--unbalance", "--factor", "10^c", "--mu", "6", "--sigma", "0",
        "--out", r.toString());
    assertThat(b.code()).isEqualTo(1);
    assertThat(b.err()).contains("pick 1 of 16 gives hidden layer 1, unit ").contains("(of 32) a factor Infinity")
        .contains("beyond the double range");
    assertThat(files(tmp)).containsExactly("m.safetensors");
  }

  @Test
  void theAbsoluteCountIsTheFormerBehaviourAndExcludesTheFraction(@TempDir Path tmp) throws Exception {
    Path m = tmp.resolve("m.safetensors");
    LayerNet original = writeModel(m);
    Path r = tmp.resolve("r.safetensors");
    Result res = run("rescale", m.toString(), "--unbalance", "--count", "40", "--seed", "3", "--out", r.toString());
    assertThat(res.code()).as(res.err()).isZero();
    LayerNet lib = original.copy();
    Rescaling.unbalance(lib, Unbalance.total(40), new Rng(3));
    assertThat(SafeTensors.read(r).network().params().toArray()).containsExactly(lib.params().toArray());
    JsonNode j = Configs.json().readTree(tmp.resolve("r.factors.json").toFile());
    assertThat(j.at("/options/density").asText()).isEqualTo("total");
    assertThat(j.at("/options/count").asInt()).isEqualTo(40);
    assertThat(j.get("seed").asLong()).isEqualTo(3);

    Result both = run("rescale", m.toString(), "--unbalance", "--count", "40", "--fraction", "0.5", "--out",
        tmp.resolve("x.safetensors").toString());
    assertThat(both.code()).isEqualTo(1);
    assertThat(both.err()).contains("--fraction and --count");
    Result neg = run("rescale", m.toString(), "--unbalance", "--fraction", "-1", "--out",
        tmp.resolve("x.safetensors").toString());
    assertThat(neg.code()).isEqualTo(1);
    assertThat(neg.err()).contains("--fraction");
    assertThat(Files.exists(tmp.resolve("x.safetensors"))).isFalse();
  }

  @Test
  void trainWithAnOverflowingUnbalancedInitFailsBeforeTraining(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("run");
    Result r = run("train", "--hidden", "32,32", "--init", "unbalanced", "--unbalance-count", "2000", "--epochs", "1",
        "--per-class-train", "5", "--validation-size", "0", "--threads", "1", "--quiet", "--out", out.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().lines().count()).isEqualTo(1);
    assertThat(r.err()).startsWith("pathsgd train: error: unbalanced rescaling (count 2000 over all hidden layers, "
        + "factor 10c, mu 0, sigma 1) refused: ")
        .containsPattern("largest factor [0-9.]+e\\+[0-9]+ at hidden layer [12], unit [0-9]+ \\(of 32\\)");
    assertThat(r.out()).isEmpty();
    assertThat(Files.exists(out)).isFalse();

    // a config file's count is replaced by the flag's fraction; both flags at once are an error
    Path cfg = tmp.resolve("c.yaml");
    Files.writeString(cfg, "init: unbalanced\nunbalance_count: 2000\n");
    Result both = run("train", "--config", cfg.toString(), "--unbalance-fraction", "0.25", "--unbalance-count", "8",
        "--out", out.toString());
    assertThat(both.code()).isEqualTo(1);
    assertThat(both.err()).contains("--unbalance-fraction and --unbalance-count");
    Result ok = run("train", "--config", cfg.toString(), "--unbalance-fraction", "0.25", "--hidden", "32,32",
        "--epochs", "1", "--per-class-train", "5", "--validation-size", "0", "--threads", "1", "--quiet",
        "--out", out.toString());
    assertThat(ok.code()).as(ok.err()).isZero();
    JsonNode c = Configs.json().readTree(out.resolve("config.json").toFile());
    assertThat(c.at("/config/init").asText()).isEqualTo("unbalanced");
    assertThat(c.at("/config/unbalance_fraction").asDouble()).isEqualTo(0.25);
    assertThat(c.at("/config/unbalance_count").isNull()).isTrue();
  }
}
