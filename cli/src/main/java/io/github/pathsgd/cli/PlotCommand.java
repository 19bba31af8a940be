package io.github.pathsgd.cli;

import io.github.pathsgd.report.Figures;
import io.github.pathsgd.report.Report;
import io.github.pathsgd.report.ResultSet;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code pathsgd plot}: figures from a sweep folder's result files, or from any set of train run folders. */
@Command(name = "plot", mixinStandardHelpOptions = true,
    description = {"Draw a sweep's figures (PNG and SVG) into IN/figures from its result files alone, or, with --runs, "
        + "plot train run folders together (one figure per data set: training cross-entropy on a log axis, training "
        + "error, test error; colour per optimizer, line style per initialization) into OUT/figures."})
final class PlotCommand implements Callable<Integer> {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--in", paramLabel = "DIR", description = "a sweep output folder")
  Path in;

  @Option(names = "--runs", arity = "1..*", paramLabel = "DIR",
      description = "train run folders (each with config.json and metrics.csv)")
  List<Path> runs;

  @Option(names = "--out", paramLabel = "DIR", defaultValue = ".",
      description = "with --runs: the figures go to DIR/figures (default: ${DEFAULT-VALUE})")
  Path out;

  @Override
  public Integer call() {
    System.setProperty("java.awt.headless", "true");
    if ((in == null) == (runs == null)) {
      throw new ParameterException(spec.commandLine(), "give either --in SWEEP_DIR or --runs RUN_DIR...");
    }
    ResultSet rs = in != null ? ResultSet.read(in) : ResultSet.ofRuns(runs, out);
    List<Figures.Figure> figs = Figures.draw(rs);
    for (Figures.Figure f : figs) {
      System.out.println("wrote " + f.png() + " and " + f.svgs().size() + " SVG file(s)");
    }
    if (figs.isEmpty()) {
      spec.commandLine().getErr().println("pathsgd plot: no figure: " + Report.whyNoFigure(rs));
      spec.commandLine().getErr().flush();
      return 1;
    }
    return 0;
  }
}
