package io.github.pathsgd.cli;

import io.github.pathsgd.data.DataRequest;
import io.github.pathsgd.data.DataSplits;
import io.github.pathsgd.data.Dataset;
import io.github.pathsgd.data.Datasets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pathsgd data ...}: dataset information. */
@Command(name = "data", mixinStandardHelpOptions = true,
    description = "Dataset utilities. Datasets are read from --data-dir, then $PATHSGD_DATA, then ~/.pathsgd/data.",
    subcommands = {DataCommand.Info.class, DataCommand.ListNames.class})
final class DataCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the dataset names.")
  static final class ListNames implements Callable<Integer> {
    @Override
    public Integer call() {
      Datasets.names().forEach(System.out::println);
      return 0;
    }
  }

  @Command(name = "info", mixinStandardHelpOptions = true,
      description = "Counts, class histograms, shape and the SHA-256 of every file read, for one dataset.")
  static final class Info implements Callable<Integer> {
    @Parameters(paramLabel = "NAME", description = "mnist, mnist-sample, fashion-mnist, cifar10, cifar100, svhn")
    String name;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "data folder")
    Path dataDir;

    @Override
    public Integer call() {
      DataSplits s = Datasets.load(DataRequest.of(name, dataDir));
      print("train", s.train());
      print("test", s.test());
      for (Map.Entry<String, String> e : s.provenance().entrySet()) {
        System.out.println(e.getKey() + ": " + e.getValue());
      }
      return 0;
    }

    private static void print(String split, Dataset d) {
      System.out.println(split + ": " + d.n() + " images, " + d.channels() + "x" + d.height() + "x" + d.width() + ", "
          + d.numClasses() + " classes, histogram " + Arrays.toString(d.classHistogram()));
    }
  }
}
