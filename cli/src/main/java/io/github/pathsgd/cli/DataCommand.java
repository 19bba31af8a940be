package io.github.pathsgd.cli;

import io.github.pathsgd.data.DatasetInfo;
import io.github.pathsgd.data.Datasets;
import io.github.pathsgd.data.Downloader;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pathsgd data ...}: dataset information. */
@Command(name = "data", mixinStandardHelpOptions = true,
    description = "Dataset utilities. Datasets are read from --data-dir, then $PATHSGD_DATA, then ~/.pathsgd/data.",
    subcommands = {DataCommand.Info.class, DataCommand.ListNames.class, DataCommand.Download.class})
final class DataCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  @Command(name = "download", mixinStandardHelpOptions = true,
      description = {"Fetch the official files of a dataset into the data folder and check them against the published",
        "checksums. Offline, it fails and names the folder where the files can be put by hand."})
  static final class Download implements Callable<Integer> {
    @Parameters(paramLabel = "NAME", description = "mnist, fashion-mnist, cifar10, cifar100, svhn")
    String name;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "data folder")
    Path dataDir;

    @Override
    public Integer call() {
      Path where = Downloader.download(name, dataDir, System.out);
      System.out.println("downloaded " + name + " into " + where);
      return 0;
    }
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
      System.out.print(DatasetInfo.of(name, dataDir).toText());
      return 0;
    }
  }
}
