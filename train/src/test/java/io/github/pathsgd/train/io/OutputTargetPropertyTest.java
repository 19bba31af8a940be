package io.github.pathsgd.train.io;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.testkit.Tries;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * For every kind of thing an output path can name, the checked writer either writes exactly the bytes into the file
 * the path leads to, or refuses, and in both cases changes nothing else: every other node of the folder keeps its
 * type, its bytes and its link target, and no temporary file stays behind.
 */
class OutputTargetPropertyTest {
  /** What the output path names. */
  enum Kind {
    ABSENT, ABSENT_IN_NEW_FOLDERS, REGULAR, LINK_TO_REGULAR, LINK_CHAIN_TO_REGULAR, LINK_TO_ABSENT, LINK_TO_FOLDER,
    FOLDER, FIFO, LINK_TO_FIFO, SOCKET, FILE_AS_FOLDER;

    boolean writable() {
      return this == ABSENT || this == ABSENT_IN_NEW_FOLDERS || this == REGULAR || this == LINK_TO_REGULAR
          || this == LINK_CHAIN_TO_REGULAR;
    }
  }

  static final boolean MKFIFO = OutputTargetTest.runQuietly("mkfifo", "--version");

  /** One try: what the path names, and the bytes to write (at most 3000). */
  record Case(Kind kind, byte[] content) {
    @Override
    public String toString() {
      return kind + " with " + content.length + " bytes " + Arrays.toString(Arrays.copyOf(content,
          Math.min(content.length, 16))) + (content.length > 16 ? "..." : "");
    }

    /** Half the time a short array (up to 16 bytes), half the time up to 3000; every kind equally likely. */
    static Case draw(SplittableRandom r) {
      byte[] b = new byte[r.nextBoolean() ? r.nextInt(17) : r.nextInt(3001)];
      r.nextBytes(b);
      return new Case(Kind.values()[r.nextInt(Kind.values().length)], b);
    }

    /** Shrink candidates: no bytes, the first half, all but the last byte. */
    List<Case> smaller() {
      return Tries.toward(content.length, 0).stream().map(n -> new Case(kind, Arrays.copyOf(content, n))).toList();
    }
  }

  /** Every kind with no bytes, then every kind with 3000 bytes of all values. */
  static List<Case> edges() {
    List<Case> e = new ArrayList<>();
    byte[] full = new byte[3000];
    for (int i = 0; i < full.length; i++) {
      full[i] = (byte) i;
    }
    for (Kind k : Kind.values()) {
      e.add(new Case(k, new byte[0]));
    }
    for (Kind k : Kind.values()) {
      e.add(new Case(k, full));
    }
    return e;
  }

  @Test
  void writesExactlyOrRefusesAndTouchesNothingElse() {
    Map<Kind, Integer> tried = new EnumMap<>(Kind.class);
    Tries.forAll(300, 0x0A7F_0001L, edges(), Case::draw, Case::smaller, c -> {
      tried.merge(c.kind(), 1, Integer::sum);
      writesExactlyOrRefuses(c.kind(), c.content());
    });
    assertThat(tried.keySet()).as("kinds tried").containsExactlyInAnyOrder(Kind.values());
    assertThat(tried.values()).allSatisfy(n -> assertThat(n).isGreaterThanOrEqualTo(10));
  }

  static void writesExactlyOrRefuses(Kind kind, byte[] content) throws Exception {
    if (!MKFIFO && (kind == Kind.FIFO || kind == Kind.LINK_TO_FIFO)) {
      return; // no mkfifo on this machine
    }
    Path dir = Files.createTempDirectory("pathsgd-output-property");
    ServerSocketChannel sock = null;
    try {
      Path other = Files.write(dir.resolve("other.bin"), new byte[] {1, 2, 3});
      Path target = dir.resolve("target.bin");
      Path out = dir.resolve("out.bin");
      switch (kind) {
        case ABSENT -> { }
        case ABSENT_IN_NEW_FOLDERS -> out = dir.resolve("a/b/out.bin");
        case REGULAR -> Files.write(out, new byte[] {9, 9});
        case LINK_TO_REGULAR -> {
          Files.write(target, new byte[] {7});
          Files.createSymbolicLink(out, Path.of("target.bin"));
        }
        case LINK_CHAIN_TO_REGULAR -> {
          Files.write(target, new byte[] {7});
          Files.createSymbolicLink(dir.resolve("mid"), target);
          Files.createSymbolicLink(out, Path.of("mid"));
        }
        case LINK_TO_ABSENT -> Files.createSymbolicLink(out, Path.of("target.bin"));
        case LINK_TO_FOLDER -> {
          Files.createDirectories(dir.resolve("folder"));
          Files.createSymbolicLink(out, Path.of("folder"));
        }
        case FOLDER -> Files.createDirectories(out);
        case FIFO -> mkfifo(out);
        case LINK_TO_FIFO -> {
          mkfifo(target);
          Files.createSymbolicLink(out, Path.of("target.bin"));
        }
        case SOCKET -> {
          sock = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
          sock.bind(UnixDomainSocketAddress.of(out));
        }
        case FILE_AS_FOLDER -> out = other.resolve("out.bin");
        default -> throw new IllegalStateException();
      }
      Map<String, String> before = snapshot(dir);
      Path written = kind == Kind.LINK_TO_REGULAR || kind == Kind.LINK_CHAIN_TO_REGULAR ? target : out;
      boolean ok;
      try {
        Path o = out;
        AtomicFiles.write(o, s -> s.write(content));
        ok = true;
      } catch (OutputTarget.Refused e) {
        ok = false;
        assertThat(e.getMessage()).startsWith("cannot write " + out + ": ");
      }
      assertThat(ok).as(kind.toString()).isEqualTo(kind.writable());
      Map<String, String> after = snapshot(dir);
      if (ok) {
        assertThat(Files.isRegularFile(written, LinkOption.NOFOLLOW_LINKS)).isTrue();
        assertThat(Files.readAllBytes(written)).isEqualTo(content);
        before.remove(dir.relativize(written).toString());
        after.remove(dir.relativize(written).toString());
        if (kind == Kind.ABSENT_IN_NEW_FOLDERS) {
          after.remove("a");
          after.remove("a/b");
        }
      }
      assertThat(after).isEqualTo(before);
    } finally {
      if (sock != null) {
        sock.close();
      }
      delete(dir);
    }
  }

  static void mkfifo(Path p) throws Exception {
    Process pr = new ProcessBuilder("mkfifo", p.toString()).start();
    assertThat(pr.waitFor()).isZero();
  }

  /** Every node under {@code dir}: its type, and its bytes or link target; temporary files show up too. */
  static Map<String, String> snapshot(Path dir) throws IOException {
    Map<String, String> m = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        if (p.equals(dir)) {
          continue;
        }
        int t = OutputTargetTest.type(p);
        String v = switch (t) {
          case 0100000 -> "file " + Arrays.toString(Files.readAllBytes(p));
          case 0120000 -> "link " + Files.readSymbolicLink(p);
          default -> "type " + Integer.toOctalString(t);
        };
        m.put(dir.relativize(p).toString(), v);
      }
    }
    return m;
  }

  static void delete(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
