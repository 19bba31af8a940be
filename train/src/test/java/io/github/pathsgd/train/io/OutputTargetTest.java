package io.github.pathsgd.train.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one checked writer ({@link AtomicFiles}, {@link OutputTarget}) on real files, links and special files made in a
 * temporary folder: FIFOs with mkfifo, sockets with a Unix-domain server socket, device nodes with mknod when the
 * tests run as root (else skipped with a message).
 */
class OutputTargetTest {
  static int type(Path p) throws IOException {
    return ((Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS)) & 0170000;
  }

  static String read(Path p) throws IOException {
    return Files.readString(p, StandardCharsets.UTF_8);
  }

  static List<String> temps(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList();
    }
  }

  /** Runs a command; false when it fails or is not installed. */
  static boolean runQuietly(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  static boolean root() throws IOException, InterruptedException {
    Process p = new ProcessBuilder("id", "-u").start();
    String uid = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    p.waitFor();
    return uid.equals("0");
  }

  static Path fifo(Path p) throws Exception {
    Assumptions.assumeTrue(runQuietly("mkfifo", p.toString()), "mkfifo is not available: FIFO case skipped");
    return p;
  }

  @Test
  void aNewFileGetsTheUmaskModeAndAReplacedFileKeepsItsMode(@TempDir Path tmp) throws IOException {
    Path ref = Files.createFile(tmp.resolve("reference")); // 0666 less this process's umask
    Path f = tmp.resolve("sub/dir/new.json");
    AtomicFiles.writeString(f, "{}");
    assertThat(read(f)).isEqualTo("{}");
    assertThat(Files.getPosixFilePermissions(f)).isEqualTo(Files.getPosixFilePermissions(ref));
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r-----"));
    AtomicFiles.writeString(f, "{\"a\":1}");
    assertThat(read(f)).isEqualTo("{\"a\":1}");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-r-----");
    assertThat(temps(f.getParent())).isEmpty();
  }

  @Test
  void aSymlinkToARegularFileIsWrittenThroughAndStaysALink(@TempDir Path tmp) throws IOException {
    Path realDir = Files.createDirectories(tmp.resolve("elsewhere"));
    Path target = Files.writeString(realDir.resolve("model.safetensors"), "old");
    Path link = Files.createSymbolicLink(tmp.resolve("link.safetensors"), Path.of("elsewhere/model.safetensors"));
    Path link2 = Files.createSymbolicLink(tmp.resolve("link2"), link);
    AtomicFiles.writeString(link2, "new");
    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(Files.isSymbolicLink(link2)).isTrue();
    assertThat(Files.readSymbolicLink(link)).isEqualTo(Path.of("elsewhere/model.safetensors"));
    assertThat(read(target)).isEqualTo("new");
    assertThat(OutputTarget.of(link2).file()).isEqualTo(target.toAbsolutePath());
    assertThat(temps(tmp)).isEmpty();
    assertThat(temps(realDir)).isEmpty();
  }

  @Test
  void aDanglingLinkIsRefusedAndNothingIsCreated(@TempDir Path tmp) throws IOException {
    Path link = Files.createSymbolicLink(tmp.resolve("out.json"), tmp.resolve("missing.json"));
    assertThatThrownBy(() -> AtomicFiles.writeString(link, "x")).isInstanceOf(OutputTarget.Refused.class)
        .hasMessage("cannot write " + link + ": it is a symbolic link to " + tmp.resolve("missing.json")
            + ", which does not exist (a dangling link is not written through)");
    assertThat(Files.exists(tmp.resolve("missing.json"), LinkOption.NOFOLLOW_LINKS)).isFalse();
    assertThat(Files.isSymbolicLink(link)).isTrue();
  }

  @Test
  void aFifoIsRefusedNamingItsTypeAndStaysAFifo(@TempDir Path tmp) throws Exception {
    Path p = fifo(tmp.resolve("model.safetensors"));
    assertThatThrownBy(() -> AtomicFiles.writeString(p, "x")).isInstanceOf(OutputTarget.Refused.class)
        .hasMessage("cannot write " + p + ": it is a FIFO (named pipe); " + OutputTarget.EXPECTED);
    assertThat(type(p)).isEqualTo(0010000);
    Path link = Files.createSymbolicLink(tmp.resolve("via-link"), p);
    assertThatThrownBy(() -> OutputTarget.of(link)).isInstanceOf(OutputTarget.Refused.class)
        .hasMessageContaining("it is a FIFO (named pipe) (" + link + " links to " + p + ")");
    assertThat(temps(tmp)).isEmpty();
  }

  @Test
  void aFolderAndASocketAreRefused(@TempDir Path tmp) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("summary.json"));
    assertThatThrownBy(() -> AtomicFiles.writeString(dir, "x")).isInstanceOf(OutputTarget.Refused.class)
        .hasMessage("cannot write " + dir + ": it is a folder; " + OutputTarget.EXPECTED);
    assertThat(Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)).isTrue();
    Path sock = tmp.resolve("s.sock");
    try (ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.bind(UnixDomainSocketAddress.of(sock));
      assertThatThrownBy(() -> AtomicFiles.writeString(sock, "x")).isInstanceOf(OutputTarget.Refused.class)
          .hasMessage("cannot write " + sock + ": it is a socket; " + OutputTarget.EXPECTED);
      assertThat(type(sock)).isEqualTo(0140000);
    }
  }

  @Test
  void aFileWhereAFolderIsNeededIsNamed(@TempDir Path tmp) throws IOException {
    Path file = Files.writeString(tmp.resolve("file"), "keep");
    assertThatThrownBy(() -> AtomicFiles.writeString(file.resolve("a/b.json"), "x"))
        .isInstanceOf(OutputTarget.Refused.class)
        .hasMessage("cannot write " + file.resolve("a/b.json") + ": " + file + " is a regular file, not a folder");
    assertThatThrownBy(() -> OutputTarget.checkFolder(file)).isInstanceOf(OutputTarget.Refused.class)
        .hasMessage("cannot write into " + file + ": it is a regular file, not a folder");
    assertThat(read(file)).isEqualTo("keep");
  }

  @Test
  void aReadOnlyFileIsRefusedUnlessRoot(@TempDir Path tmp) throws Exception {
    Assumptions.assumeFalse(root(), "running as root: every file is writable, read-only case skipped");
    Path f = Files.writeString(tmp.resolve("ro.json"), "keep");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("r--r--r--"));
    assertThatThrownBy(() -> AtomicFiles.writeString(f, "x")).isInstanceOf(OutputTarget.Refused.class)
        .hasMessage("cannot write " + f + ": the file is read-only");
    assertThat(read(f)).isEqualTo("keep");
  }

  @Test
  void deviceNodesAreWrittenThroughOrRefusedAndNeverReplaced(@TempDir Path tmp) throws Exception {
    Assumptions.assumeTrue(root(), "not root: mknod needs root, device-node cases skipped");
    Path nul = tmp.resolve("null");
    Path full = tmp.resolve("full");
    Path blk = tmp.resolve("loop");
    Assumptions.assumeTrue(runQuietly("mknod", nul.toString(), "c", "1", "3") && runQuietly("mknod", full.toString(), "c", "1", "7")
        && runQuietly("mknod", blk.toString(), "b", "7", "200"), "mknod failed (no CAP_MKNOD here): device cases skipped");
    // /dev/null's twin: written through, stays a character device
    assertThat(OutputTarget.of(nul).mode()).isEqualTo(OutputTarget.Mode.STREAM);
    AtomicFiles.writeString(nul, "x".repeat(100_000));
    assertThat(type(nul)).isEqualTo(0020000);
    Path link = Files.createSymbolicLink(tmp.resolve("to-null"), nul);
    AtomicFiles.writeString(link, "y");
    assertThat(Files.isSymbolicLink(link)).isTrue();
    // /dev/full's twin (the reproducer): the device's error, one line, and the node is still a device
    assertThatThrownBy(() -> AtomicFiles.writeString(full, "x".repeat(26_000)))
        .isInstanceOf(UncheckedIOException.class).hasMessage("cannot write " + full + ": No space left on device");
    assertThat(type(full)).isEqualTo(0020000);
    // a block device is refused
    assertThatThrownBy(() -> AtomicFiles.writeString(blk, "x")).isInstanceOf(OutputTarget.Refused.class)
        .hasMessage("cannot write " + blk + ": it is a block device; " + OutputTarget.EXPECTED);
    assertThat(type(blk)).isEqualTo(0060000);
    assertThat(temps(tmp)).isEmpty();
  }

  @Test
  void orphanedTempFilesOfDeadProcessesAreRemovedAndNothingElse(@TempDir Path tmp) throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    long dead = p.pid();
    String mine = AtomicFiles.tempName("metrics.csv"); // .metrics.csv.pathsgd-HOST-PID-RANDOM.tmp
    String pid = String.valueOf(ProcessHandle.current().pid());
    int at = mine.lastIndexOf("-" + pid + "-");
    String deadOne = mine.substring(0, at) + "-" + dead + "-" + "0123456789abcdef.tmp";
    Path orphan = Files.writeString(tmp.resolve(deadOne), "torn");
    Path live = Files.writeString(tmp.resolve(mine), "in flight"); // this process: still running
    Path otherHost = Files.writeString(tmp.resolve(".metrics.csv.pathsgd-elsewhere-" + dead + "-0123456789abcdef.tmp"),
        "another machine");
    Path legacyOld = Files.writeString(tmp.resolve(".summary.json.1234567890123.tmp"), "old");
    Files.setLastModifiedTime(legacyOld, FileTime.fromMillis(System.currentTimeMillis() - 7_200_000L));
    Path legacyNew = Files.writeString(tmp.resolve(".config.json.99887766.tmp"), "recent");
    Path user = Files.writeString(tmp.resolve(".notes.tmp"), "the user's");
    Path userLegacy = Files.writeString(tmp.resolve(".data.csv.123.tmp"), "not one of our names");
    Files.setLastModifiedTime(userLegacy, FileTime.fromMillis(System.currentTimeMillis() - 7_200_000L));
    List<Path> removed = AtomicFiles.cleanOrphans(tmp, Set.of("metrics.csv", "summary.json", "config.json"));
    assertThat(removed).containsExactlyInAnyOrder(orphan, legacyOld);
    assertThat(List.of(live, otherHost, legacyNew, user, userLegacy)).allMatch(Files::exists);
    // an atomic write of a name removes that name's orphans too
    Path again = Files.writeString(tmp.resolve(deadOne), "torn");
    AtomicFiles.writeString(tmp.resolve("metrics.csv"), "a,b\n");
    assertThat(Files.exists(again)).isFalse();
    assertThat(Files.exists(live)).isTrue();
  }
}
