package io.github.pathsgd.cli;

import io.github.pathsgd.report.Report;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pathsgd report}: report.md and a self-contained report.html from a sweep folder. */
@Command(name = "report", mixinStandardHelpOptions = true,
    description = "Write IN/report.md and a self-contained IN/report.html (figures embedded) from result files.")
final class ReportCommand implements Callable<Integer> {
  @Option(names = "--in", required = true, paramLabel = "DIR", description = "a sweep output folder")
  Path in;

  @Override
  public Integer call() {
    System.setProperty("java.awt.headless", "true");
    for (Path p : Report.write(in)) {
      System.out.println("wrote " + p);
    }
    return 0;
  }
}
