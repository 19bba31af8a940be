package io.github.pathsgd.cli;

import io.github.pathsgd.report.Report;
import io.github.pathsgd.train.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pathsgd report}: report.md and a self-contained report.html from a sweep folder; or, with {@code --summary},
 * the claims table of a whole reproduction folder (CLAIMS.md, and the README's generated block with {@code --readme}).
 */
@Command(name = "report", mixinStandardHelpOptions = true,
    description = {"Write IN/report.md and a self-contained IN/report.html (figures embedded) from result files.",
        "With --summary ROOT: write ROOT/CLAIMS.md, the verdict tables and figures of every finished experiment under"
            + " ROOT (size, rescaling, compare; a sweep counts as finished when its folder holds COMPLETE), and with"
            + " --readme FILE put the same text, links relative to FILE, between FILE's claims markers, and the example"
            + " output of pathsgd train, generated from the run folder its train-example marker names, between those"
            + " markers."})
final class ReportCommand implements Callable<Integer> {
  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Target target;

  static final class Target {
    @Option(names = "--in", required = true, paramLabel = "DIR", description = "a sweep output folder")
    Path in;

    @Option(names = "--summary", required = true, paramLabel = "ROOT",
        description = "a reproduction folder holding size/, rescaling/, compare/ (e.g. results/medium)")
    Path summary;
  }

  @Option(names = "--readme", paramLabel = "FILE",
      description = "with --summary: also replace the generated claims block of FILE (e.g. README.md) and its"
          + " train-example block")
  Path readme;

  @Override
  public Integer call() {
    System.setProperty("java.awt.headless", "true");
    if (target.in != null) {
      if (readme != null) {
        throw new IllegalArgumentException("--readme goes with --summary, not with --in");
      }
      Report.Written w = Report.writeReport(target.in);
      for (Path p : w.files()) {
        System.out.println("wrote " + p);
      }
      // a figure or verdict the sweep asks for that cannot apply: the report says why, and so does the exit status
      w.problems().forEach(x -> spec.commandLine().getErr().println("pathsgd report: " + x));
      spec.commandLine().getErr().flush();
      return w.problems().isEmpty() ? 0 : 1;
    }
    Path root = target.summary;
    if (!Files.isDirectory(root)) {
      throw new IllegalArgumentException("--summary " + root + ": not a folder (expected a reproduction folder such as"
          + " results/medium)");
    }
    Path claims = root.resolve("CLAIMS.md");
    AtomicFiles.writeString(claims, "# Claims of the chapter, measured\n\n" + Report.summary(root, root));
    System.out.println("wrote " + claims);
    if (readme != null) {
      try {
        String text = Files.readString(readme);
        Path dir = readme.toAbsolutePath().getParent();
        String next = Report.splice(text, Report.summary(root, dir), readme.toString());
        // and the example output of pathsgd train, from the run folder its marker names
        next = TrainExample.splice(next, readme);
        if (!next.equals(text)) {
          AtomicFiles.writeString(readme, next);
          System.out.println("wrote " + readme);
        } else {
          System.out.println(readme + " is up to date");
        }
      } catch (IOException e) {
        throw new UncheckedIOException(readme + ": " + e.getMessage(), e);
      }
    }
    return 0;
  }
}
