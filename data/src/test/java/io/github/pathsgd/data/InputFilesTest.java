package io.github.pathsgd.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Special files are refused by their attributes, never opened: a FIFO (opening one blocks until a writer comes), a
 * device (never ends), a directory, a broken symbolic link. A symbolic link to a regular file is followed.
 */
class InputFilesTest {
  @TempDir Path tmp;

  /** Makes a FIFO with mkfifo(1), or skips the test where there is none. */
  static Path fifo(Path p) throws IOException, InterruptedException {
    Process pr;
    try {
      pr = new ProcessBuilder("mkfifo", p.toString()).redirectErrorStream(true).start();
    } catch (IOException e) {
      Assumptions.abort("mkfifo not available: " + e.getMessage());
      throw e;
    }
    Assumptions.assumeTrue(pr.waitFor() == 0 && Files.exists(p), "mkfifo failed; skipping the FIFO cases");
    return p;
  }

  /** Makes a character device (the null device, 1:3) with mknod(1) when running as root; else skips. */
  static Path device(Path p) throws IOException, InterruptedException {
    Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
        "not root: mknod cannot make a device node, skipping the device case");
    Process pr = new ProcessBuilder("mknod", p.toString(), "c", "1", "3").redirectErrorStream(true).start();
    Assumptions.assumeTrue(pr.waitFor() == 0 && Files.exists(p), "mknod failed (a container without the "
        + "capability?); skipping the device case");
    return p;
  }

  @Test
  void fifoIsRefusedWithoutBlocking() throws Exception {
    Path f = fifo(tmp.resolve("model.safetensors"));
    assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
      assertThatThrownBy(() -> InputFiles.requireRegular(f, "model")).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("model " + f + ": is a FIFO (named pipe), expected a regular file (pipes, devices and sockets "
              + "are never read: they can block forever or never end)");
      // a symbolic link to it is followed, and refused the same way
      Path link = Files.createSymbolicLink(tmp.resolve("link"), f);
      assertThat(InputFiles.problem(link)).startsWith("is a FIFO (named pipe)");
      // the data readers refuse it as well, with a DataException
      assertThatThrownBy(() -> IdxReader.read(f, f, "t", 10)).isInstanceOf(DataException.class)
          .hasMessageStartingWith(f + ": is a FIFO (named pipe)");
    });
  }

  @Test
  void deviceIsRefused() throws Exception {
    Path d = device(tmp.resolve("zero"));
    assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertThatThrownBy(
        () -> InputFiles.requireRegular(d, "config")).hasMessage("config " + d + ": is a character device, expected "
        + "a regular file (pipes, devices and sockets are never read: they can block forever or never end)"));
  }

  @Test
  void directoriesMissingFilesAndBrokenLinks() throws Exception {
    assertThatThrownBy(() -> InputFiles.requireRegular(tmp, "checkpoint")).isInstanceOf(
        IllegalArgumentException.class).hasMessage("checkpoint " + tmp + ": is a directory, expected a file");
    Path missing = tmp.resolve("missing.yaml");
    assertThatThrownBy(() -> InputFiles.requireRegular(missing, "config")).hasMessage("config " + missing
        + ": file not found");
    Path broken = Files.createSymbolicLink(tmp.resolve("broken"), tmp.resolve("nowhere"));
    assertThatThrownBy(() -> InputFiles.requireRegular(broken, "model")).hasMessage("model " + broken
        + ": is a broken symbolic link (its target " + tmp.resolve("nowhere") + " does not exist)");
    Path loop = Files.createSymbolicLink(tmp.resolve("loop"), tmp.resolve("loop"));
    assertThat(InputFiles.problem(loop)).startsWith("is a symbolic link loop");
    Path real = Files.writeString(tmp.resolve("real"), "x");
    assertThat(InputFiles.problem(Files.createSymbolicLink(tmp.resolve("ok"), real))).isNull();
    assertThat(InputFiles.problem(real)).isNull();
  }

  @Test
  void readBoundedRefusesLargeFilesBeforeReading() throws Exception {
    Path big = tmp.resolve("big");
    try (var raf = new java.io.RandomAccessFile(big.toFile(), "rw")) {
      raf.setLength(100L << 20); // sparse: 100 MiB that take no disk
    }
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> InputFiles.readBounded(big, 1 << 20, "config")).hasMessage("config " + big
        + ": file has 104857600 bytes, more than the 1048576 bytes accepted for a config file");
    assertThat((System.nanoTime() - t0) / 1e9).isLessThan(1);
    Path small = Files.writeString(tmp.resolve("small"), "abc");
    assertThat(InputFiles.readBounded(small, 3, "config")).containsExactly('a', 'b', 'c');
  }

  @Test
  void dataFolderEntriesThatAreNotFilesAreNamed() throws Exception {
    Path d = tmp.resolve("mnist");
    TestFiles.writeMnist(d, 5, 5, false);
    Files.delete(d.resolve("train-images-idx3-ubyte"));
    Path f = fifo(d.resolve("train-images-idx3-ubyte"));
    assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertThatThrownBy(
        () -> Datasets.load(DataRequest.of("mnist", d))).isInstanceOf(DataException.class)
        .hasMessageStartingWith(f + ": is a FIFO (named pipe)")
        .hasMessageEndingWith("; it is where the train-images file of mnist is looked for"));
    Files.delete(f);
    Files.createDirectory(f);
    assertThatThrownBy(() -> Datasets.load(DataRequest.of("mnist", d))).hasMessage(f + ": is a directory, expected "
        + "a file; it is where the train-images file of mnist is looked for");
  }

  @Test
  void dataFolderThatIsAFileIsNamed() throws Exception {
    Path file = Files.writeString(tmp.resolve("train-images-idx3-ubyte"), "x");
    assertThatThrownBy(() -> Datasets.load(DataRequest.of("mnist", file))).isInstanceOf(DataException.class)
        .hasMessage("data folder " + file + " is a file; expected the folder that holds the mnist files (--data-dir, "
            + "data_dir or PATHSGD_DATA)");
    Path none = tmp.resolve("none");
    assertThatThrownBy(() -> Datasets.load(DataRequest.of("mnist", none))).isInstanceOf(DataException.class)
        .hasMessageContaining("Searched: [" + none + ", " + none.resolve("mnist") + "] (no such folders)");
  }
}
