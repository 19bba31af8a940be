package io.github.pathsgd.cli;

import io.github.pathsgd.experiments.results.Provenance;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code pathsgd} command line. */
@Command(
    name = "pathsgd",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Path-SGD, path norms and rescaling geometry for deep ReLU networks.",
      "Neyshabur, Tomioka, Salakhutdinov, Srebro: Geometry of Optimization and",
      "Implicit Regularization in Deep Learning, arXiv:1705.03071;",
      "Path-SGD, NIPS 2015, arXiv:1506.02617."
    },
    subcommands = {TrainCommand.class, NormsCommand.class, RescaleCommand.class, DemoCommand.class, BenchCommand.class,
      DataCommand.class, ExperimentsCommand.class, PlotCommand.class, ReportCommand.class,
      CommandLine.HelpCommand.class},
    footer = {"", "Run 'pathsgd COMMAND --help' for a command's options.",
      "Environment: PATHSGD_DATA (data folder), CI=true (plain progress lines), PATHSGD_DEBUG=1 (stack traces)."})
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** Builds the command line with the project's error handling. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler(new Errors());
    cl.setParameterExceptionHandler(Errors::parameterError);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    return cl;
  }

  public static void main(String[] args) {
    int code = commandLine().execute(args);
    System.out.flush();
    System.exit(code);
  }

  /** Version and build provenance. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"pathsgd " + Provenance.version(), "Java " + System.getProperty("java.version") + ", "
          + System.getProperty("os.name") + " " + System.getProperty("os.arch")};
    }
  }

  /** One-line errors, no stack traces (unless PATHSGD_DEBUG is set). */
  static final class Errors implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parseResult) {
      PrintWriter err = cmd.getErr();
      if (System.getenv("PATHSGD_DEBUG") != null) {
        ex.printStackTrace(err);
      }
      String msg = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
      err.println("pathsgd " + cmd.getCommandName() + ": error: " + msg.replace('\n', ' '));
      err.flush();
      return ex instanceof IllegalArgumentException || ex instanceof RuntimeException ? 1 : 2;
    }

    static int parameterError(CommandLine.ParameterException ex, String[] args) {
      CommandLine cmd = ex.getCommandLine();
      PrintWriter err = cmd.getErr();
      err.println("pathsgd " + cmd.getCommandName() + ": error: " + ex.getMessage().replace('\n', ' '));
      err.println("Try 'pathsgd " + (cmd.getParent() == null ? "" : cmd.getCommandName() + " ") + "--help'.");
      err.flush();
      return 2;
    }
  }
}
