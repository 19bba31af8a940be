package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile values for every numeric flag of {@code pathsgd train}, and special files as inputs: each is one line on
 * stderr that names the flag's key and the value, exit code 1 (2 where picocli cannot parse the value), nothing
 * written, and no stack trace.
 */
class HostileFlagsTest {
  @TempDir Path tmp;

  /** Flags, then the text the single error line must contain. */
  static final String[][] CASES = {
    {"--hidden 100000,100000", "hidden: widths [100000, 100000] need 10000000000 weights between the hidden layers"},
    {"--hidden 30000,30000", "hidden: widths [30000, 30000] need 900000000 weights"},
    {"--hidden 700000", "network 784-700000-10 has 556500010 parameters, more than the 536870911 one float32 buffer"},
    {"--hidden 100000 --batch-size 10000", "a batch of 7000 rows through network 784-100000-10 needs 700000000 floats"},
    {"--hidden 0", "hidden: widths must be positive integers, got [0]"},
    {"--hidden 8,-5", "hidden: widths must be positive integers, got [8, -5]"},
    {"--batch-size 0", "batch_size: expected a positive integer, got 0"},
    {"--batch-size -7", "batch_size: expected a positive integer, got -7"},
    {"--downsample -1", "downsample: expected a side length >= 1, or 0 for off, got -1"},
    {"--downsample 29", "downsample 29 is larger than the 28 x 28 images of mnist-sample; expected 1..28 (0 = off)"},
    {"--downsample 100000", "downsample 100000 is larger than the 28 x 28 images"},
    {"--per-class-train 5000 --validation-size 1000", "per_class_train 5000 is more than the "},
    {"--per-class-train 100000", "validation size 125000 (validation_size) is not below the 8000 images of mnist-sample/train; expected "
        + "0..7999 (the rest is the training split) (validation_size -1 = auto chose 125000, 10/8 of per_class_train "
        + "100000; set validation_size / --validation-size)"},
    {"--per-class-train -1", "per_class_train: expected >= 1 images per class, or 0 for all, got -1"},
    {"--validation-size 8000", "validation size 8000 (validation_size) is not below the 8000 images of mnist-sample/train"},
    {"--validation-size 1000000", "validation size 1000000 (validation_size) is not below the 8000 images"},
    {"--validation-size -2", "validation_size: expected >= 0, or -1 for auto, got -2"},
    {"--threads -1", "threads: expected 0..1024 (0 = all cores), got -1"},
    {"--threads 1000000", "threads: expected 0..1024 (0 = all cores), got 1000000"},
    {"--epochs 0", "epochs: expected a positive integer, got 0"},
    {"--epochs -3", "epochs: expected a positive integer, got -3"},
    {"--lr 0", "lr: expected a positive finite number, got 0.0"},
    {"--lr -0.1", "lr: expected a positive finite number, got -0.1"},
    {"--lr NaN", "lr: expected a positive finite number, got NaN"},
    {"--lr Infinity", "lr: expected a positive finite number, got Infinity"},
    {"--lr 1e-50", "lr: expected a step size in the float32 range"},
    {"--dropout 1", "dropout: expected a drop probability in [0, 1), got 1.0"},
    {"--dropout 1.5", "dropout: expected a drop probability in [0, 1), got 1.5"},
    {"--dropout -0.1", "dropout: expected a drop probability in [0, 1), got -0.1"},
    {"--dropout NaN", "dropout: expected a drop probability in [0, 1), got NaN"},
    {"--input-dropout 1", "input_dropout: expected a drop probability in [0, 1), got 1.0"},
    {"--kappa-every 0", "kappa_every: expected an integer >= 1, got 0"},
    {"--kappa-every -2", "kappa_every: expected an integer >= 1, got -2"},
    {"--momentum 1", "momentum: expected a value in [0, 1), got 1.0"},
    {"--momentum NaN", "momentum: expected a value in [0, 1), got NaN"},
    {"--p 0.5", "p: expected a finite p >= 1, got 0.5"},
    {"--p NaN", "p: expected a finite p >= 1, got NaN"},
    {"--stop-loss -1", "stop_train_loss: expected a finite number >= 0 (0 = never), got -1.0"},
    {"--stop-loss Infinity", "stop_train_loss: expected a finite number >= 0 (0 = never), got Infinity"},
    {"--unbalance-fraction -1", "unbalance_fraction: expected a finite fraction >= 0"},
    {"--unbalance-fraction NaN", "unbalance_fraction: expected a finite fraction >= 0"},
    {"--unbalance-count -1", "unbalance_count: expected >= 0, got -1"},
    {"--unbalance-mu NaN", "unbalance_mu: expected a finite number, got NaN"},
    {"--unbalance-sigma -1", "unbalance_sigma: expected a finite number >= 0, got -1.0"},
    {"--unbalance-sigma Infinity", "unbalance_sigma: expected a finite number >= 0, got Infinity"},
  };

  /** Runs {@code train} with the flags; asserts one line, exit 1, nothing written; returns the line. */
  private String refused(String flags) {
    Path out = tmp.resolve("out-" + Integer.toHexString(flags.hashCode()));
    List<String> args = new ArrayList<>(List.of("train", "--quiet", "--out", out.toString()));
    if (!flags.contains("--hidden")) {
      args.addAll(List.of("--hidden", "8"));
    }
    if (!flags.contains("--epochs")) {
      args.addAll(List.of("--epochs", "1"));
    }
    args.addAll(List.of(flags.split(" ")));
    CliTest.Result r = CliTest.run(args.toArray(new String[0]));
    assertThat(r.code()).as(flags + ": " + r.err()).isEqualTo(1);
    assertThat(r.err().lines().count()).as(flags + ": " + r.err()).isEqualTo(1);
    assertThat(r.err()).as(flags).startsWith("pathsgd train: error: ").doesNotContain("\tat ")
        .doesNotContain("internal error");
    assertThat(Files.exists(out)).as(flags + ": wrote " + out).isFalse();
    return r.err().strip();
  }

  @Test
  void everyHostileNumericFlagIsOneClearLine() {
    for (String[] c : CASES) {
      assertThat(refused(c[0])).as(c[0]).contains(c[1]);
    }
  }

  @Test
  void valuesPicocliCannotParseNameTheFlag() {
    for (String flags : List.of("--epochs 1e3", "--epochs 99999999999", "--lr fast", "--hidden 1,x")) {
      List<String> args = new ArrayList<>(List.of("train", "--quiet", "--out", tmp.resolve("o").toString()));
      args.addAll(List.of(flags.split(" ")));
      CliTest.Result r = CliTest.run(args.toArray(new String[0]));
      assertThat(r.code()).as(flags).isEqualTo(2);
      assertThat(r.err()).as(flags).contains(flags.split(" ")[0]).doesNotContain("\tat ");
    }
  }

  @Test
  void specialFilesAsConfigOrModelAreRefusedWithoutBlocking() throws Exception {
    Path fifo = tmp.resolve("cfg.yaml");
    Process pr;
    try {
      pr = new ProcessBuilder("mkfifo", fifo.toString()).start();
    } catch (IOException e) {
      Assumptions.abort("mkfifo not available: " + e.getMessage());
      return;
    }
    Assumptions.assumeTrue(pr.waitFor() == 0, "mkfifo failed; skipping");
    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
      assertThat(refused("--config " + fifo)).isEqualTo("pathsgd train: error: " + fifo + ": config is a FIFO (named "
          + "pipe), expected a regular file (pipes, devices and sockets are never read: they can block forever or "
          + "never end)");
      for (String cmd : List.of("norms", "rescale")) {
        List<String> args = new ArrayList<>(List.of(cmd, fifo.toString()));
        if (cmd.equals("rescale")) {
          args.addAll(List.of("--unbalance", "--out", tmp.resolve("r.safetensors").toString()));
        }
        CliTest.Result r = CliTest.run(args.toArray(new String[0]));
        assertThat(r.code()).as(cmd + r.err()).isNotZero();
        assertThat(r.err().strip()).as(cmd).isEqualTo("pathsgd " + cmd + ": error: model " + fifo + ": is a FIFO "
            + "(named pipe), expected a regular file (pipes, devices and sockets are never read: they can block "
            + "forever or never end)");
      }
    });
    assertThat(refused("--config " + tmp)).isEqualTo("pathsgd train: error: " + tmp + ": config is a directory, "
        + "expected a file");
    CliTest.Result n = CliTest.run("norms", tmp.toString());
    assertThat(n.err().strip()).isEqualTo("pathsgd norms: error: model " + tmp + ": is a directory, expected a file");
    Path dataFile = Files.writeString(tmp.resolve("notadir"), "x");
    assertThat(refused("--dataset mnist --data-dir " + dataFile)).isEqualTo("pathsgd train: error: data folder "
        + dataFile + " is a file; expected the folder that holds the mnist files (--data-dir, data_dir or "
        + "PATHSGD_DATA)");
  }

  @Test
  void configTypeErrorsNameTheKey() throws Exception {
    Path c = Files.writeString(tmp.resolve("c.yaml"), "hidden: 64\n");
    assertThat(refused("--config " + c)).isEqualTo("pathsgd train: error: hidden: expected a list (such as [1000, "
        + "1000]), got the integer 64 in " + c);
  }

  @Test
  void bugsAreReportedAsBugsWithTheirType() throws Exception {
    assertThat(Main.Errors.message(new NullPointerException())).isEqualTo("internal error: "
        + "java.lang.NullPointerException. This is a bug, please report it with the command line; PATHSGD_DEBUG=1 "
        + "prints the stack trace");
    assertThat(Main.Errors.message(new ArithmeticException("/ by zero"))).isEqualTo("internal error: "
        + "java.lang.ArithmeticException: / by zero. This is a bug, please report it with the command line; "
        + "PATHSGD_DEBUG=1 prints the stack trace");
    // a JDK exception with a message not written for the user (capacity < 0) is named as what it is
    IllegalArgumentException jdk = catchIt(() -> java.nio.ByteBuffer.allocateDirect(-4));
    assertThat(Main.Errors.message(jdk)).startsWith("internal error: java.lang.IllegalArgumentException: capacity < 0");
    // the project's own messages pass through; file system errors name the file
    assertThat(Main.Errors.message(new IllegalArgumentException("lr: expected ..."))).isEqualTo("lr: expected ...");
    assertThat(Main.Errors.message(new java.nio.file.NoSuchFileException("/x/y"))).isEqualTo("/x/y: no such file "
        + "or folder");
    // an I/O error from the JDK without a file name (reading a folder): still says it is an I/O error
    java.io.IOException dir = null;
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(tmp)) {
      ch.read(java.nio.ByteBuffer.allocate(8));
    } catch (java.io.IOException e) {
      dir = e;
    }
    assertThat(dir).isNotNull();
    assertThat(Main.Errors.message(dir)).isEqualTo("I/O error: Is a directory");
    assertThat(Main.Errors.message(new OutOfMemoryError("Java heap space"))).startsWith("out of memory (Java heap "
        + "space); the JVM may use at most ");
  }

  private static IllegalArgumentException catchIt(Runnable r) {
    try {
      r.run();
    } catch (IllegalArgumentException e) {
      return e;
    }
    throw new AssertionError("no exception");
  }
}
