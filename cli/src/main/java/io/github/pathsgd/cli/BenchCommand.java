package io.github.pathsgd.cli;

import io.github.pathsgd.experiments.bench.StepBenchmark;
import io.github.pathsgd.experiments.results.Provenance;
import io.github.pathsgd.experiments.results.RunWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pathsgd bench}: the SGEMM peak and the training-step times, in one process. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {"Measure the OpenBLAS SGEMM peak (2048^3) and one training step (forward, loss, backward, update)",
      "for SGD and Path-SGD, as ms/step, samples/s and fraction of the FLOP-bound minimum (step FLOPs / peak).",
      "Run it on an otherwise idle machine; each figure is a median after warm-up."})
final class BenchCommand implements Callable<Integer> {
  @Option(names = "--threads", defaultValue = "0", description = "OpenBLAS threads (default 0 = all cores)")
  int threads;

  @Option(names = "--batch", defaultValue = "100", description = "batch size (default ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--arch", split = ";", defaultValue = "784-4000-4000-10;3072-4000-4000-10",
      description = "architectures, ';'-separated (default ${DEFAULT-VALUE})")
  List<String> archs;

  @Option(names = "--steps", defaultValue = "20", description = "timed steps per measurement (default ${DEFAULT-VALUE})")
  int steps;

  @Option(names = "--json", paramLabel = "FILE", description = "also write the figures as JSON")
  Path json;

  @Override
  public Integer call() {
    List<int[]> parsed = new ArrayList<>();
    for (String a : archs) {
      String[] parts = a.trim().split("-");
      int[] w = new int[parts.length];
      for (int i = 0; i < parts.length; i++) {
        try {
          w[i] = Integer.parseInt(parts[i]);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("--arch: expected widths like 784-4000-4000-10, got '" + a + "'");
        }
        if (w[i] <= 0 || parts.length < 2) {
          throw new IllegalArgumentException("--arch: widths must be positive integers, got '" + a + "'");
        }
      }
      parsed.add(w);
    }
    Map<String, Object> out = new LinkedHashMap<>(StepBenchmark.run(threads, batch, parsed, steps));
    out.put("provenance", Provenance.machine());
    if (json != null) {
      RunWriter.writeJson(json, out);
      System.out.println("wrote " + json);
    }
    return 0;
  }
}
