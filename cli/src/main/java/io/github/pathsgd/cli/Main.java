package io.github.pathsgd.cli;

import io.github.pathsgd.experiments.rundir.Provenance;
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
    cl.registerConverter(java.nio.file.Path.class, Main::path);
    return cl;
  }

  /**
   * A path argument: an empty one is refused (Java reads "" as the current folder, so {@code --out ""} would write
   * there), as is one the file system cannot name (a NUL character).
   */
  static java.nio.file.Path path(String s) {
    if (s.isEmpty()) {
      throw new CommandLine.TypeConversionException("expected a path, got an empty string");
    }
    try {
      return java.nio.file.Path.of(s);
    } catch (java.nio.file.InvalidPathException e) {
      throw new CommandLine.TypeConversionException("'" + s + "' is not a valid path (" + e.getReason() + ")");
    }
  }

  /** The command as typed, e.g. "pathsgd experiments run": the leading words of args that name subcommands. */
  static String typed(CommandLine root, String[] args) {
    CommandLine c = root;
    for (String a : args) {
      CommandLine sub = a.startsWith("-") ? null : c.getSubcommands().get(a);
      if (sub == null) {
        break;
      }
      c = sub;
    }
    return c.getCommandSpec().qualifiedName(" ");
  }

  public static void main(String[] args) {
    int code;
    try {
      code = commandLine().execute(args);
    } catch (Error e) { // picocli passes an Error (OutOfMemoryError ...) through execute(); one line for it too
      if (System.getenv("PATHSGD_DEBUG") != null) {
        e.printStackTrace();
      }
      System.err.println(typed(commandLine(), args) + ": error: " + Errors.message(e));
      code = 1;
    }
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

  /**
   * One-line errors, no stack traces (unless PATHSGD_DEBUG is set).
   *
   * <p>An exception thrown by the project's own code ({@code ConfigException}, {@code DataException}, an {@link
   * IllegalArgumentException} with a message naming the value and what was expected ...) prints its message. A file
   * system error prints the file and the reason; another I/O error its message after "I/O error:". Running out of
   * memory says how to give the JVM more. Anything else, and always a {@code NullPointerException}, {@code
   * ArithmeticException}, index out of bounds or negative array size, or an exception thrown inside the JDK or a
   * library (such as {@code capacity < 0}), is a bug: the line names the exception type and its message, says it is
   * a bug to report and that PATHSGD_DEBUG=1 prints the stack trace. Exit code 1 for runtime exceptions and errors,
   * 2 for checked ones (I/O), as before.
   */
  static final class Errors implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parseResult) {
      PrintWriter err = cmd.getErr();
      Throwable t = ex;
      // in case picocli wraps a Throwable that is not an Exception
      if (ex instanceof CommandLine.ExecutionException && ex.getCause() != null) {
        t = ex.getCause();
      }
      if (System.getenv("PATHSGD_DEBUG") != null) {
        t.printStackTrace(err);
      }
      err.println(cmd.getCommandSpec().qualifiedName(" ") + ": error: " + message(t).replace('\n', ' '));
      err.flush();
      return t instanceof RuntimeException || t instanceof Error ? 1 : 2;
    }

    /** The one line for a throwable (see the class comment). */
    static String message(Throwable t) {
      String msg = t.getMessage();
      if (t instanceof OutOfMemoryError) {
        Runtime rt = Runtime.getRuntime();
        return "out of memory (" + (msg == null ? "OutOfMemoryError" : msg) + "); the JVM may use at most "
            + rt.maxMemory() / (1 << 20) + " MiB of heap. Use smaller hidden widths or batch size, or give it more "
            + "memory: PATHSGD_JAVA_OPTS=-Xmx16g (the pathsgd script; -XX:MaxDirectMemorySize for network buffers)";
      }
      if (t instanceof StackOverflowError) {
        return "stack overflow (StackOverflowError); this is a bug, please report it with the command line. "
            + "PATHSGD_DEBUG=1 prints the stack trace";
      }
      if (t instanceof java.nio.file.NoSuchFileException f) {
        return f.getFile() + ": no such file or folder" + (f.getOtherFile() == null ? "" : " (" + f.getOtherFile()
            + ")");
      }
      if (t instanceof java.nio.file.AccessDeniedException f) {
        return f.getFile() + ": permission denied";
      }
      if (t instanceof java.nio.file.FileAlreadyExistsException f) {
        return f.getFile() + ": already exists";
      }
      if (t instanceof java.nio.file.NotDirectoryException f) {
        return f.getFile() + ": not a folder";
      }
      if (t instanceof java.nio.file.FileSystemException f) {
        return (f.getFile() == null ? "" : f.getFile() + ": ") + (f.getReason() == null ? "file system error"
            : f.getReason()) + (f.getOtherFile() == null ? "" : " (" + f.getOtherFile() + ")");
      }
      if (t instanceof java.io.UncheckedIOException u && u.getCause() != null && msg != null
          && msg.equals(String.valueOf(u.getCause().getMessage()))) {
        return message(u.getCause());
      }
      boolean hasMsg = msg != null && !msg.isBlank();
      if (!bug(t) && hasMsg && (fromProject(t) || t instanceof io.github.pathsgd.data.DataException
          || t instanceof io.github.pathsgd.experiments.config.ConfigException)) {
        return msg;
      }
      if (!bug(t) && t instanceof java.io.IOException) {
        return "I/O error: " + (t.getClass() == java.io.IOException.class ? "" : t.getClass().getName() + ": ")
            + (hasMsg ? msg : "no details");
      }
      return "internal error: " + t.getClass().getName() + (hasMsg ? ": " + msg : "") + ". This is a bug, "
          + "please report it with the command line; PATHSGD_DEBUG=1 prints the stack trace";
    }

    /** Exception types that never carry a message for the user, wherever they are thrown. */
    static boolean bug(Throwable t) {
      return t instanceof NullPointerException || t instanceof ArithmeticException
          || t instanceof IndexOutOfBoundsException || t instanceof NegativeArraySizeException
          || t instanceof ClassCastException || t instanceof ArrayStoreException
          || t instanceof java.util.ConcurrentModificationException || t instanceof UnsupportedOperationException;
    }

    /**
     * Whether the project's own code threw it (its messages are written for the user); one thrown inside the JDK
     * or a library ({@code capacity < 0}, {@code Negative position}) is not.
     */
    static boolean fromProject(Throwable t) {
      StackTraceElement[] st = t.getStackTrace();
      return st.length > 0 && st[0].getClassName().startsWith("io.github.pathsgd.");
    }

    /**
     * " (did you mean '--hidden'?)" for an unknown flag or subcommand near a known one (Levenshtein distance), or "".
     */
    static String didYouMean(CommandLine.ParameterException ex) {
      if (!(ex instanceof CommandLine.UnmatchedArgumentException u) || u.getUnmatched().isEmpty()) {
        return "";
      }
      CommandLine.Model.CommandSpec spec = ex.getCommandLine().getCommandSpec();
      String arg = u.getUnmatched().get(0);
      if (arg.startsWith("-")) {
        String flag = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
        return io.github.pathsgd.data.Suggest.hint(flag, spec.optionsMap().keySet());
      }
      return spec.subcommands().isEmpty() ? "" : io.github.pathsgd.data.Suggest.hint(arg, spec.subcommands()
          .keySet());
    }

    static int parameterError(CommandLine.ParameterException ex, String[] args) {
      CommandLine cmd = ex.getCommandLine();
      PrintWriter err = cmd.getErr();
      String name = cmd.getCommandSpec().qualifiedName(" "); // the command as typed: "pathsgd experiments run"
      err.println(name + ": error: " + ex.getMessage().replace('\n', ' ') + didYouMean(ex));
      err.println("Try '" + name + " --help'.");
      err.flush();
      return 2;
    }
  }
}
