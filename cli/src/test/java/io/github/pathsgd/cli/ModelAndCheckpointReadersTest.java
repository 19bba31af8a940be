package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.pathsgd.core.geometry.PathNorms;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.model.SafeTensors;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands that read model files and checkpoints refuse bad ones with one line, and norms prints numbers only. */
class ModelAndCheckpointReadersTest {
  static CliTest.Result run(String... args) {
    return CliTest.run(args);
  }

  static Path model(Path dir, float bad) {
    LayerNet net = Init.balanced(new DenseChain(4, 6, 3), new Rng(2));
    if (!Float.isFinite(bad) || bad != 0) {
      net.params().set(net.chain().weightOffset(1) + 7, bad); // layers.1.weight[1, 1]
    }
    Path f = dir.resolve("m.safetensors");
    SafeTensors.write(net, f, Map.of());
    return f;
  }

  @Test
  void aModelWithAShortHeaderLengthIsRefusedByNormsAndRescale(@TempDir Path tmp) throws Exception {
    Path f = model(tmp, 0);
    byte[] b = Files.readAllBytes(f);
    ByteBuffer le = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    le.putLong(0, le.getLong(0) - 1);
    Files.write(f, b);
    CliTest.Result n = run("norms", f.toString(), "--json");
    assertThat(n.code()).isEqualTo(2);
    assertThat(n.out()).isEmpty();
    assertThat(n.err()).isEqualTo("pathsgd norms: error: " + f + ": the tensors cover 204 bytes of the 205-byte data "
        + "area (the header length or an offset is wrong, or bytes were added or removed)" + System.lineSeparator());
    Path out = tmp.resolve("r.safetensors");
    CliTest.Result r = run("rescale", f.toString(), "--unbalance", "--out", out.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).startsWith("pathsgd rescale: error: " + f + ": the tensors cover").doesNotContain("\tat ");
    assertThat(out).doesNotExist();
  }

  @Test
  void nonFiniteWeightsAreRefusedUnlessAllowed(@TempDir Path tmp) throws Exception {
    Path f = model(tmp, Float.NaN);
    CliTest.Result n = run("norms", f.toString());
    assertThat(n.code()).isEqualTo(2);
    assertThat(n.err()).isEqualTo("pathsgd norms: error: " + f + ": tensor 'layers.1.weight' element [1, 1] (byte "
        + (Files.size(f) - 4 * (3 * 6 + 3) + 4 * 7) + ") is NaN; non-finite weights are refused unless allowed "
        + "(--allow-non-finite)" + System.lineSeparator());
    CliTest.Result allowed = run("norms", f.toString(), "--json", "--allow-non-finite");
    assertThat(allowed.code()).isZero();
    assertThat(new ObjectMapper().readTree(allowed.out()).get("architecture").asText()).isEqualTo("4-6-3");
    Path out = tmp.resolve("r.safetensors");
    CliTest.Result r = run("rescale", f.toString(), "--unbalance", "--out", out.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("is NaN; non-finite weights are refused");
    assertThat(out).doesNotExist();
    assertThat(run("norms", "--help").out()).contains("--allow-non-finite");
    assertThat(run("rescale", "--help").out()).contains("--allow-non-finite");
  }

  /** 12 layers of weights 1e30: φ ≈ 1e360 overflows double; norms --json still prints a number. */
  @Test
  void normsJsonPrintsNumbersForAFiniteModelBeyondTheDoubleRange(@TempDir Path tmp) throws Exception {
    int[] widths = new int[13];
    java.util.Arrays.fill(widths, 2);
    DenseChain lay = new DenseChain(widths);
    LayerNet net = LayerNet.dense(lay);
    for (int l = 0; l < lay.layers(); l++) {
      net.params().fill(lay.weightOffset(l), lay.weightSize(l), 1e30f);
    }
    assertThat(PathNorms.phi(net, 2)).isInfinite();
    Path f = tmp.resolve("big.safetensors");
    SafeTensors.write(net, f, Map.of());
    CliTest.Result r = run("norms", f.toString(), "--json");
    assertThat(r.code()).isZero();
    assertThat(r.out()).doesNotContain("NaN").doesNotContain("Infinity");
    JsonNode j = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).readTree(r.out());
    BigDecimal w = new BigDecimal((double) 1e30f);
    // every unit's γ_in is Σ over its 2 inputs: (2w)^12 per output for φ_1, (2w²)^12 for φ_2², w^12 for φ_∞
    BigDecimal phi1 = w.multiply(BigDecimal.valueOf(2)).pow(12).multiply(BigDecimal.valueOf(2));
    BigDecimal phi2sq = w.pow(2).multiply(BigDecimal.valueOf(2)).pow(12).multiply(BigDecimal.valueOf(2));
    BigDecimal phiInf = w.pow(12);
    assertThat(ratio(j.at("/path_norm/1").decimalValue(), phi1)).isCloseTo(1, within(1e-6));
    assertThat(ratio(j.at("/path_norm/2").decimalValue().pow(2), phi2sq)).isCloseTo(1, within(2e-6));
    assertThat(ratio(j.at("/path_norm/inf").decimalValue(), phiInf)).isCloseTo(1, within(1e-6));
    assertThat(j.at("/path_norm/1").decimalValue().precision()).isLessThanOrEqualTo(7);
    // the metrics block (the six measures as metrics.csv names them) is numbers too: each all-w 2x2 layer has spectral
    // norm 2w, so the product is (2w)^12
    assertThat(j.at("/metrics/path_norm_1").decimalValue()).isEqualTo(j.at("/path_norm/1").decimalValue());
    assertThat(ratio(j.at("/metrics/spectral_norm_product").decimalValue(), w.multiply(BigDecimal.valueOf(2))
        .pow(12))).isCloseTo(1, within(1e-6));
    // the table prints them too
    CliTest.Result t = run("norms", f.toString());
    assertThat(t.out()).contains("φ_1 = 8.19200e+363").doesNotContain("Infinity");
  }

  private static double ratio(BigDecimal a, BigDecimal b) {
    return a.divide(b, java.math.MathContext.DECIMAL64).doubleValue();
  }

  /** A damaged checkpoint in the output folder stops train before training, names the file, and is left as it is. */
  @Test
  void trainRefusesADamagedCheckpoint(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("run");
    Files.createDirectories(out);
    Path ckpt = out.resolve("checkpoint.bin");
    Files.writeString(ckpt, "not a checkpoint at all, really");
    CliTest.Result r = run("train", "--hidden", "8", "--epochs", "1", "--out", out.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("pathsgd train: error: checkpoint " + ckpt + ": not a pathsgd checkpoint (bad magic "
        + "at byte 0); not resumed (delete " + ckpt + " to start the run over)" + System.lineSeparator());
    assertThat(Files.readString(ckpt)).isEqualTo("not a checkpoint at all, really");
  }
}
