package io.github.pathsgd.cli;

import io.github.pathsgd.report.Figures;
import io.github.pathsgd.report.ResultSet;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pathsgd plot}: figures from a sweep folder's result files. */
@Command(name = "plot", mixinStandardHelpOptions = true,
    description = "Draw a sweep's figures (PNG and SVG) into IN/figures from its result files alone.")
final class PlotCommand implements Callable<Integer> {
  @Option(names = "--in", required = true, paramLabel = "DIR", description = "a sweep output folder")
  Path in;

  @Override
  public Integer call() {
    System.setProperty("java.awt.headless", "true");
    for (Figures.Figure f : Figures.draw(ResultSet.read(in))) {
      System.out.println("wrote " + f.png() + " and " + f.svgs().size() + " SVG file(s)");
    }
    return 0;
  }
}
