package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.experiments.config.Configs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code pathsgd bench --sizes}: the size sweep's table, on the console and in the JSON, with tiny timing settings. */
class BenchSizesTest {
  /** Tiny warm-up and timing settings: enough to check the plumbing, far too short for figures. */
  static final String[] QUICK = {"--steps", "3", "--warmup-steps", "20", "--warmup-seconds", "0.1", "--min-seconds",
    "0.05"};

  static String[] args(String... more) {
    List<String> a = new ArrayList<>(List.of("bench"));
    a.addAll(List.of(more));
    a.addAll(List.of(QUICK));
    return a.toArray(new String[0]);
  }

  @Test
  void sizesAloneMeansTheDefaultWidths() {
    BenchCommand b = new BenchCommand();
    new CommandLine(b).parseArgs("--sizes");
    assertThat(b.sizes).containsExactly(64, 128, 256, 1000, 4000);
    BenchCommand c = new BenchCommand();
    new CommandLine(c).parseArgs("--sizes", "64,128", "--threads", "1,2", "--input", "784,3072");
    assertThat(c.sizes).containsExactly(64, 128);
    assertThat(c.threads).containsExactly(1, 2);
    assertThat(c.inputs).containsExactly(784, 3072);
    BenchCommand d = new BenchCommand();
    new CommandLine(d).parseArgs();
    assertThat(d.sizes).isNull();
    assertThat(d.threads).containsExactly(0);
    assertThat(d.plan().warmupSteps()).isEqualTo(200);
    assertThat(d.plan().warmupSeconds()).isEqualTo(1.5);
    assertThat(d.plan().minSeconds()).isEqualTo(1.0);
  }

  @Test
  void sweepWritesOneRowPerSizeAndThreadCount(@TempDir Path tmp) throws Exception {
    Path json = tmp.resolve("sizes.json");
    CliTest.Result r = CliTest.run(args("--sizes", "64,128", "--threads", "1,2", "--json", json.toString()));
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode b = Configs.json().readTree(json.toFile());
    JsonNode rows = b.get("size_sweep");
    assertThat(rows).hasSize(4);
    String[] archs = {"784-64-64-10", "784-128-128-10", "784-64-64-10", "784-128-128-10"};
    int[] threads = {1, 1, 2, 2};
    for (int i = 0; i < 4; i++) {
      JsonNode row = rows.get(i);
      assertThat(row.get("arch").asText()).isEqualTo(archs[i]);
      assertThat(row.get("threads").asInt()).isEqualTo(threads[i]);
      assertThat(row.get("input").asInt()).isEqualTo(784);
      assertThat(row.get("hidden").asInt()).isEqualTo(i % 2 == 0 ? 64 : 128);
      assertThat(row.get("batch").asInt()).isEqualTo(100);
      for (String opt : List.of("sgd", "path_sgd")) {
        double ms = row.get(opt + "_ms_per_step").asDouble();
        assertThat(ms).isPositive();
        assertThat(row.get(opt + "_samples_per_s").asDouble()).isPositive().isCloseTo(100 / (ms / 1e3), within(1e-6));
        assertThat(row.get("warmup_seconds_" + opt).asDouble()).isGreaterThanOrEqualTo(0.1);
        assertThat(row.get("timed_seconds_" + opt).asDouble()).isGreaterThanOrEqualTo(0.05);
        assertThat(row.get("drift_" + opt).asDouble()).isPositive();
      }
      // the ratio is the median of the paired per-round ratios, within its quartiles
      double q25 = row.get("ratio_q25").asDouble();
      double med = row.get("ratio_median").asDouble();
      double q75 = row.get("ratio_q75").asDouble();
      assertThat(q25).isPositive().isLessThanOrEqualTo(med);
      assertThat(med).isLessThanOrEqualTo(q75);
      assertThat(row.get("ratio_of_medians").asDouble()).isCloseTo(
          row.get("path_sgd_ms_per_step").asDouble() / row.get("sgd_ms_per_step").asDouble(), within(1e-9));
      // the warm-up rule, not a count that depends on the machine's speed: at least 20 steps, unless every optimizer
      // has already warmed up for the cap (5 s), after which the step minimum is waived (a loaded machine: 13 steps)
      double cap = b.at("/timing/warmup_steps_cap_seconds").asDouble();
      boolean capped = row.get("warmup_seconds_sgd").asDouble() >= cap
          && row.get("warmup_seconds_path_sgd").asDouble() >= cap;
      assertThat(row.get("warmup_steps").asInt() >= 20 || capped)
          .as("warm-up of %s: %s steps, %s / %s s", archs[i], row.get("warmup_steps"), row.get("warmup_seconds_sgd"),
              row.get("warmup_seconds_path_sgd"))
          .isTrue();
      assertThat(row.get("warmup_steps").asInt()).isPositive();
      assertThat(row.get("timed_steps").asInt()).isGreaterThanOrEqualTo(3);
      assertThat(row.has("pytorch_sgd_samples_per_s")).isFalse();
    }
    assertThat(b.get("sizes")).hasSize(2);
    assertThat(b.at("/timing/warmup_min_steps").asInt()).isEqualTo(20);
    assertThat(b.at("/timing/warmup_min_seconds").asDouble()).isEqualTo(0.1);
    assertThat(b.at("/timing/timed_min_steps").asInt()).isEqualTo(3);
    assertThat(b.at("/timing/timed_min_seconds").asDouble()).isEqualTo(0.05);
    assertThat(b.at("/timing/warmup_steps_cap_seconds").asDouble()).isEqualTo(5.0);
    assertThat(b.at("/blas_kernel/blas_core").asText()).isNotBlank().isEqualTo(b.at("/provenance/blas_core").asText());
    assertThat(b.at("/blas_kernel/line").asText()).startsWith("OpenBLAS kernel ");
    assertThat(b.has("steps")).isFalse(); // no SGEMM probe, GEMM shapes, evaluation or data loading in a sweep
    assertThat(b.has("data_loading")).isFalse();
    // one table at the end: the header, then one line per row in order, then the note
    String out = r.out();
    assertThat(out).contains(b.at("/blas_kernel/line").asText()).contains("warm-up: each optimizer at least 20 steps");
    List<String> lines = out.lines().toList();
    int head = lines.indexOf(lines.stream().filter(l -> l.startsWith("threads")).findFirst().orElseThrow());
    assertThat(lines.get(head)).contains("SGD samples/s", "Path-SGD samples/s", "Path-SGD/SGD step")
        .doesNotContain("PyTorch");
    for (int i = 0; i < 4; i++) {
      String line = lines.get(head + 1 + i);
      assertThat(line.trim()).startsWith(threads[i] + " ").contains(archs[i]).contains(String.format(
          java.util.Locale.ROOT, "%.3f (%.3f-%.3f)", rows.get(i).get("ratio_median").asDouble(),
          rows.get(i).get("ratio_q25").asDouble(), rows.get(i).get("ratio_q75").asDouble()));
    }
    assertThat(lines.get(head + 5)).startsWith("Path-SGD/SGD step: the median over the timed rounds");
  }

  @Test
  void torchColumnComesFromThePeerScript(@TempDir Path tmp) throws Exception {
    Path python = Path.of("/usr/bin/python3");
    Assumptions.assumeTrue(Files.isExecutable(python), "no /usr/bin/python3");
    // a stand-in for torch_step.py: echoes what it was asked, with a fixed 1234 samples/s
    Path script = tmp.resolve("fake_torch_step.py");
    Files.writeString(script, String.join("\n",
        "import argparse, json",
        "ap = argparse.ArgumentParser()",
        "for o in ('--arch', '--batch', '--steps', '--warmup', '--threads', '--min-seconds', '--warmup-seconds',",
        "          '--warmup-cap-seconds'): ap.add_argument(o)",
        "a = ap.parse_args()",
        "print('some noise first')",
        "print(json.dumps({'arch': a.arch, 'batch': int(a.batch), 'threads': int(a.threads), 'optimizer': 'sgd',",
        "  'ms_per_step': 100 / 1234 * 1000, 'samples_per_s': 1234.0, 'torch': 'fake',",
        "  'blas_core': 'FakeCore', 'steps': int(a.steps), 'warmup': int(a.warmup),",
        "  'min_seconds': float(a.min_seconds), 'warmup_seconds': float(a.warmup_seconds),",
        "  'warmup_cap_seconds': float(a.warmup_cap_seconds)}))", ""), StandardCharsets.UTF_8);
    Path json = tmp.resolve("sizes.json");
    CliTest.Result r = CliTest.run(args("--sizes", "64", "--threads", "1", "--torch", script.toString(), "--python",
        python.toString(), "--json", json.toString()));
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode b = Configs.json().readTree(json.toFile());
    JsonNode row = b.at("/size_sweep/0");
    assertThat(row.get("pytorch_sgd_samples_per_s").asDouble()).isEqualTo(1234.0);
    assertThat(row.get("pytorch_optimizer").asText()).isEqualTo("sgd");
    assertThat(row.get("pytorch_blas_core").asText()).isEqualTo("FakeCore");
    assertThat(row.get("ratio_sgd_over_pytorch").asDouble())
        .isCloseTo(row.get("sgd_samples_per_s").asDouble() / 1234.0, within(1e-9));
    // the peer got the same architecture and threads, and the same warm-up and timing rule (QUICK), to apply to its
    // own steps
    JsonNode peer = b.at("/pytorch/0");
    assertThat(peer.get("arch").asText()).isEqualTo("784-64-64-10");
    assertThat(peer.get("threads").asInt()).isEqualTo(1);
    assertThat(peer.get("warmup").asInt()).isEqualTo(20);
    assertThat(peer.get("warmup_seconds").asDouble()).isEqualTo(0.1);
    assertThat(peer.get("steps").asInt()).isEqualTo(3);
    assertThat(peer.get("min_seconds").asDouble()).isEqualTo(b.at("/timing/timed_min_seconds").asDouble());
    assertThat(peer.get("warmup_cap_seconds").asDouble()).isEqualTo(5.0);
    String header = r.out().lines().filter(l -> l.startsWith("threads")).findFirst().orElseThrow();
    assertThat(header).contains("PyTorch SGD samples/s");
    assertThat(r.out()).contains("1234").contains("no Path-SGD");
  }

  @Test
  void rejectsOptionsTheSweepDoesNotUse(@TempDir Path tmp) {
    CliTest.Result a = CliTest.run(args("--sizes", "64", "--arch", "30-16-4"));
    assertThat(a.code()).isNotZero();
    assertThat(a.err()).contains("--arch and --sizes");
    CliTest.Result b = CliTest.run(args("--threads", "1,2", "--arch", "30-16-4"));
    assertThat(b.code()).isNotZero();
    assertThat(b.err()).contains("needs --sizes");
    CliTest.Result c = CliTest.run(args("--sizes", "64,0"));
    assertThat(c.code()).isNotZero();
    assertThat(c.err()).contains("--sizes: widths must be positive");
    CliTest.Result d = CliTest.run(args("--sizes", "64", "--torch", tmp.resolve("missing.py").toString()));
    assertThat(d.code()).isNotZero();
    assertThat(d.err()).contains("not found");
  }
}
