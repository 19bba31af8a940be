package io.github.pathsgd.cli;

import static io.github.pathsgd.cli.CliTest.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.core.geometry.GroupNorms;
import io.github.pathsgd.core.geometry.PathNorms;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.model.SafeTensors;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --init-model} end to end, the check: a model written as PyTorch-style code writes it (F64,
 * {@code nn.Sequential} names 0, 2, 4 with ReLUs between) trains from a NumPy {@code .npz} data set, and its epoch-0
 * test loss in metrics.csv equals the loss computed in double precision from the same F64 weights, by NumPy when
 * python3 has it and always by an independent Java oracle; the norms recorded equal those of the saved model.
 */
class InitModelCliTest {
  static final int D = 12;
  static final int[] WIDTHS = {D, 8, 6, 3};
  static final int TRAIN = 240;
  static final int TEST = 120;

  /** Gaussian blobs, three classes, float32 features. */
  static float[] features(int n, long seed, int[] labels) {
    Rng r = new Rng(seed);
    float[] x = new float[n * D];
    for (int i = 0; i < n; i++) {
      labels[i] = (int) ((i * 7L + seed) % 3);
      for (int j = 0; j < D; j++) {
        x[i * D + j] = (float) (r.nextGaussian() + (j % 3 == labels[i] ? 1.5 : 0));
      }
    }
    return x;
  }

  static byte[] npy(String descr, int[] shape, byte[] data) {
    StringBuilder s = new StringBuilder("(");
    for (int d : shape) {
      s.append(d).append(',');
    }
    String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + s.append(')') + ", }";
    int pad = (64 - (10 + dict.length() + 1) % 64) % 64;
    String header = dict + " ".repeat(pad) + "\n";
    ByteBuffer b = ByteBuffer.allocate(10 + header.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length());
    return b.put(header.getBytes(StandardCharsets.ISO_8859_1)).put(data).array();
  }

  static byte[] floats(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return b.array();
  }

  static byte[] longs(int[] v) {
    ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int x : v) {
      b.putLong(x);
    }
    return b.array();
  }

  /** The Keras layout: x_train, y_train, x_test, y_test (float32 N×D, int64 labels). */
  static Path npz(Path dir, float[] xte, int[] yte) throws Exception {
    int[] ytr = new int[TRAIN];
    float[] xtr = features(TRAIN, 1, ytr);
    Path f = dir.resolve("blobs.npz");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(f))) {
      Map<String, byte[]> arrays = new java.util.LinkedHashMap<>();
      arrays.put("x_train.npy", npy("<f4", new int[] {TRAIN, D}, floats(xtr)));
      arrays.put("y_train.npy", npy("<i8", new int[] {TRAIN}, longs(ytr)));
      arrays.put("x_test.npy", npy("<f4", new int[] {TEST, D}, floats(xte)));
      arrays.put("y_test.npy", npy("<i8", new int[] {TEST}, longs(yte)));
      for (var e : arrays.entrySet()) {
        z.putNextEntry(new ZipEntry(e.getKey()));
        z.write(e.getValue());
        z.closeEntry();
      }
    }
    return f;
  }

  /** F64 weights as a PyTorch nn.Sequential(Linear, ReLU, Linear, ReLU, Linear) state dict names them: 0, 2, 4. */
  static double[][] weights() {
    Rng r = new Rng(11);
    double[][] w = new double[2 * (WIDTHS.length - 1)][];
    for (int l = 0; l + 1 < WIDTHS.length; l++) {
      w[2 * l] = new double[WIDTHS[l + 1] * WIDTHS[l]];
      w[2 * l + 1] = new double[WIDTHS[l + 1]];
      for (int i = 0; i < w[2 * l].length; i++) {
        w[2 * l][i] = r.nextGaussian() / Math.sqrt(WIDTHS[l]); // no float32 value: rounding is part of the test
      }
      for (int i = 0; i < w[2 * l + 1].length; i++) {
        w[2 * l + 1][i] = 0.1 * r.nextGaussian();
      }
    }
    return w;
  }

  static Path model(Path dir, double[][] w) throws Exception {
    StringBuilder h = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    long off = 0;
    for (int l = 0; l + 1 < WIDTHS.length; l++) {
      for (int k = 0; k < 2; k++) {
        double[] t = w[2 * l + k];
        String shape = k == 0 ? "[" + WIDTHS[l + 1] + "," + WIDTHS[l] + "]" : "[" + WIDTHS[l + 1] + "]";
        h.append(",\"").append(2 * l).append(k == 0 ? ".weight" : ".bias").append("\":{\"dtype\":\"F64\",\"shape\":")
            .append(shape).append(",\"data_offsets\":[").append(off).append(',').append(off + 8L * t.length)
            .append("]}");
        ByteBuffer b = ByteBuffer.allocate(8 * t.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : t) {
          b.putDouble(v);
        }
        data.writeBytes(b.array());
        off += 8L * t.length;
      }
    }
    byte[] hb = h.append('}').toString().getBytes(StandardCharsets.UTF_8);
    Path f = dir.resolve("torch-model.safetensors");
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    all.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(hb.length).array());
    all.writeBytes(hb);
    all.writeBytes(data.toByteArray());
    Files.write(f, all.toByteArray());
    return f;
  }

  /** The independent oracle: the mean cross-entropy in double, from the F64 weights (not rounded to float32). */
  static double javaLoss(double[][] w, float[] x, int[] y) {
    double sum = 0;
    for (int i = 0; i < y.length; i++) {
      double[] h = new double[D];
      for (int j = 0; j < D; j++) {
        h[j] = x[i * D + j];
      }
      for (int l = 0; l + 1 < WIDTHS.length; l++) {
        double[] z = new double[WIDTHS[l + 1]];
        for (int o = 0; o < z.length; o++) {
          double s = w[2 * l + 1][o];
          for (int j = 0; j < h.length; j++) {
            s += w[2 * l][o * h.length + j] * h[j];
          }
          z[o] = l + 2 < WIDTHS.length ? Math.max(0, s) : s;
        }
        h = z;
      }
      double top = Double.NEGATIVE_INFINITY;
      for (double v : h) {
        top = Math.max(top, v);
      }
      double e = 0;
      for (double v : h) {
        e += Math.exp(v - top);
      }
      sum += top + Math.log(e) - h[y[i]];
    }
    return sum / y.length;
  }

  static Map<String, Double> metrics(Path dir, int epoch, String split) throws Exception {
    Map<String, Double> m = new HashMap<>();
    for (String line : Files.readAllLines(dir.resolve("metrics.csv")).subList(1, Files.readAllLines(
        dir.resolve("metrics.csv")).size())) {
      String[] f = line.split(",");
      if (Integer.parseInt(f[1]) == epoch && f[2].equals(split)) {
        m.put(f[3], Double.parseDouble(f[4]));
      }
    }
    return m;
  }

  @Test
  void torchStyleF64ModelTrainsAndItsEpochZeroLossIsNumpys(@TempDir Path tmp) throws Exception {
    int[] yte = new int[TEST];
    float[] xte = features(TEST, 2, yte);
    Path data = npz(tmp, xte, yte);
    double[][] w = weights();
    Path model = model(tmp, w);
    Path out = tmp.resolve("run");
    Path saved = tmp.resolve("final.safetensors");
    CliTest.Result r = run("train", "--dataset", data.toString(), "--init-model", model.toString(), "--epochs", "2",
        "--dropout", "0", "--batch-size", "20", "--threads", "1", "--out", out.toString(), "--save-model",
        saved.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("init model " + model + ": PyTorch nn.Sequential names (0, 2, 4 -> layers 0, 1, 2)"
        + ", F64 converted to float32");
    double csv = metrics(out, 0, "test").get("loss");
    double java = javaLoss(w, xte, yte);
    assertThat(csv).isCloseTo(java, within(1e-5));
    if (CliTest.pythonWithNumpy()) {
      Path script = tmp.resolve("numpy_loss.py");
      try (var in = InitModelCliTest.class.getResourceAsStream("/numpy_loss.py")) {
        Files.copy(in, script);
      }
      Process p = new ProcessBuilder("python3", script.toString(), model.toString(), data.toString())
          .redirectErrorStream(true).start();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      assertThat(p.exitValue()).as(text).isZero();
      double numpy = Double.parseDouble(text);
      assertThat(csv).isCloseTo(numpy, within(1e-5));
      assertThat(java).isCloseTo(numpy, within(1e-12)); // two double-precision oracles agree
      System.out.printf("InitModelCliTest: epoch-0 test loss %s in metrics.csv, NumPy %s, Java oracle %s%n", csv,
          numpy, java);
    } else {
      System.out.println("InitModelCliTest: python3 with numpy not found; the NumPy check is skipped, the Java "
          + "double-precision oracle ran (" + java + " vs " + csv + ")");
    }
    // the widths come from the model, the content (file SHA-256) is recorded in the config and the provenance
    JsonNode c = Configs.json().readTree(out.resolve("config.json").toFile());
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(model)));
    assertThat(c.path("config").path("hidden").toString()).isEqualTo("[8,6]");
    assertThat(c.path("config").path("init_model_sha256").asText()).isEqualTo(sha);
    assertThat(c.path("provenance").path("init_model").path("sha256").asText()).isEqualTo(sha);
    assertThat(c.path("provenance").path("init_model").path("file").asText()).isEqualTo(model.toAbsolutePath()
        .normalize().toString());
    // the norms recorded after the last epoch are those of the saved model, by the one implementation
    LayerNet net = SafeTensors.read(saved).network();
    Map<String, Double> last = metrics(out, 2, "model");
    assertThat(last.get("path_norm_1")).isEqualTo(PathNorms.phi(net, 1, true));
    assertThat(last.get("path_norm_2")).isEqualTo(PathNorms.phi(net, 2, true));
    assertThat(last.get("path_norm_inf")).isEqualTo(PathNorms.phi(net, Double.POSITIVE_INFINITY, true));
    assertThat(last.get("l2_norm")).isEqualTo(GroupNorms.l2(net, true));
    assertThat(last.get("max_unit_norm")).isEqualTo(GroupNorms.maxNorm(net, true));
    assertThat(last.get("spectral_norm_product")).isEqualTo(GroupNorms.spectral(net, 0) * GroupNorms.spectral(net, 1)
        * GroupNorms.spectral(net, 2));
    assertThat(metrics(out, 0, "model")).containsOnlyKeys(last.keySet());
    JsonNode norms = Configs.json().readTree(run("norms", saved.toString(), "--json").out()).path("metrics");
    for (var e : last.entrySet()) {
      assertThat(norms.path(e.getKey()).asDouble()).as(e.getKey()).isEqualTo(e.getValue());
    }
    JsonNode summary = Configs.json().readTree(out.resolve("summary.json").toFile());
    assertThat(summary.path("norms_seconds").asDouble(-1)).isBetween(0.0, summary.path("train_seconds").asDouble()
        + 10);

    // --init unbalanced rescales the given model: the same function (loss) and path norms, another ℓ2 norm
    Path unb = tmp.resolve("unb");
    CliTest.Result u = run("train", "--dataset", data.toString(), "--init-model", model.toString(), "--init",
        "unbalanced", "--epochs", "1", "--steps", "3", "--dropout", "0", "--batch-size", "20", "--threads", "1",
        "--out", unb.toString(), "--quiet");
    assertThat(u.code()).as(u.err()).isZero();
    Map<String, Double> m0 = metrics(out, 0, "model");
    Map<String, Double> u0 = metrics(unb, 0, "model");
    assertThat(metrics(unb, 0, "test").get("loss")).isCloseTo(csv, within(1e-5));
    assertThat(u0.get("path_norm_2")).isCloseTo(m0.get("path_norm_2"), within(1e-5 * m0.get("path_norm_2")));
    assertThat(u0.get("l2_norm")).isGreaterThan(2 * m0.get("l2_norm"));
    // --steps 3: a partial first epoch (210 training rows after the auto validation split: 11 steps of 20)
    JsonNode us = Configs.json().readTree(unb.resolve("summary.json").toFile());
    assertThat(us.path("reason").asText()).isEqualTo("step budget of 3 steps reached in epoch 1 (a partial epoch: 3 "
        + "of its 11 steps)");
    assertThat(us.path("epochs_completed").asInt()).isEqualTo(1);
  }

  @Test
  void widthsThatDisagreeAreRefusedInOneLine(@TempDir Path tmp) throws Exception {
    int[] yte = new int[TEST];
    Path data = npz(tmp, features(TEST, 2, yte), yte);
    Path model = model(tmp, weights());
    CliTest.Result h = run("train", "--dataset", data.toString(), "--init-model", model.toString(), "--hidden", "8,7",
        "--out", tmp.resolve("a").toString());
    assertThat(h.code()).isEqualTo(1);
    assertThat(h.err().lines().toList()).hasSize(1);
    assertThat(h.err()).contains("hidden: widths [8, 7] disagree with init_model " + model + ", whose hidden widths "
        + "are [8, 6] (12-8-6-3)");
    // the model's inputs and outputs against the data set's (the bundled sample: 784 inputs, 10 classes)
    CliTest.Result d = run("train", "--init-model", model.toString(), "--epochs", "1", "--out",
        tmp.resolve("b").toString());
    assertThat(d.code()).isEqualTo(1);
    assertThat(d.err().lines().toList()).hasSize(1);
    assertThat(d.err()).contains("init_model: " + model + " is 12-8-6-3: 12 inputs and 3 outputs, but the data set "
        + "mnist-sample has 784 inputs and 10 classes");
    assertThat(tmp.resolve("b").resolve("summary.json")).doesNotExist();
    // a damaged file is refused before anything runs, naming it
    Files.write(model, List.of("not a model"));
    CliTest.Result bad = run("train", "--dataset", data.toString(), "--init-model", model.toString(), "--out",
        tmp.resolve("c").toString());
    assertThat(bad.code()).isNotZero();
    assertThat(bad.err()).startsWith("pathsgd train: error: init_model: " + model + ": ");
  }
}
