package io.github.pathsgd.bench;

import io.github.pathsgd.data.CifarReader;
import io.github.pathsgd.data.DataRequest;
import io.github.pathsgd.data.DataSplits;
import io.github.pathsgd.data.Dataset;
import io.github.pathsgd.data.IdxReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Prints how long reading the real training sets takes (not a test): MNIST {@code mnist-convnetjs} train (60,000,
 * gzip) and CIFAR-10 {@code cifar10-jpeg} train (25,000, gzip), when present. Argument: the {@code shared/data}
 * folder (default: found by walking up from the working directory). Each read is repeated 5 times; the best and the
 * first are printed.
 */
public final class ReadTiming {
  private ReadTiming() {}

  /** Entry point. */
  public static void main(String[] args) throws Exception {
    Path shared = args.length > 0 ? Path.of(args[0]) : find();
    if (shared == null) {
      System.out.println("shared/data not found; pass its path");
      return;
    }
    Path m = shared.resolve("mnist-convnetjs");
    if (Files.isDirectory(m)) {
      time("mnist-convnetjs train", () -> IdxReader.read(m.resolve("train-images-idx3-ubyte.gz"),
          m.resolve("train-labels-idx1-ubyte.gz"), "mnist/train", 10));
    }
    Path c = shared.resolve("cifar10-jpeg");
    if (Files.isDirectory(c)) {
      time("cifar10-jpeg train", () -> CifarReader.readCifar10(List.of(c.resolve("train.bin.gz")), "cifar10/train"));
    }
    time("mnist-sample (classpath, via Datasets.load)", () -> {
      DataSplits s = io.github.pathsgd.data.Datasets.load(DataRequest.of("mnist-sample", null));
      return s.train();
    });
  }

  interface Read {
    Dataset get() throws Exception;
  }

  private static void time(String what, Read r) throws Exception {
    long best = Long.MAX_VALUE;
    long first = 0;
    int n = 0;
    for (int i = 0; i < 5; i++) {
      long t0 = System.nanoTime();
      Dataset d = r.get();
      long t = System.nanoTime() - t0;
      n = d.n();
      if (i == 0) {
        first = t;
      }
      best = Math.min(best, t);
    }
    System.out.printf("%-45s %6d images  first %7.3f s  best %7.3f s%n", what, n, first / 1e9, best / 1e9);
  }

  private static Path find() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null) {
      if (Files.isDirectory(p.resolve("shared/data"))) {
        return p.resolve("shared/data");
      }
      if (p.getParent() != null && Files.isDirectory(p.getParent().resolve("shared/data"))) {
        return p.getParent().resolve("shared/data");
      }
      p = p.getParent();
    }
    return null;
  }
}
