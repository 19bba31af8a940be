package io.github.pathsgd.train.io;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one writer of every file pathsgd writes (results, checkpoints, models, figures, reports, factors). What a path
 * may be, and how each kind is written, is {@link OutputTarget}'s rule: a new name or a regular file is written
 * atomically, a character device or an open descriptor is written through, anything else is refused before a byte
 * is written.
 *
 * <p>Atomic writes: the content goes to a temporary file in the target's folder, named {@code
 * .NAME.pathsgd-HOST-PID-RANDOM.tmp}, is flushed to disk, and is then renamed over the target; the folder is synced
 * after the rename. A reader (or a run killed mid-write) sees either the old file or the new one, never a torn one.
 * The temporary file is created with the default permissions, so a new file gets the mode 0666 less the process's
 * umask, as any file a shell creates; a replaced file keeps its permission bits.
 *
 * <p>Temporary files left behind by a killed process are removed ({@link #cleanOrphans(Path, String)}): before each
 * atomic write, those of the same target, and when a run starts, all of its folder's ({@link #cleanOrphans(Path)}).
 * Only files of this naming pattern written on this host by a process that no longer runs are removed (and those of
 * the pattern of older versions, {@code .NAME.DIGITS.tmp}, once an hour old, for the names given).
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  /** A writer of the file's bytes. */
  @FunctionalInterface
  public interface Body {
    void write(OutputStream out) throws IOException;
  }

  /** Our temporary files: {@code .NAME.pathsgd-HOST-PID-RANDOM.tmp}. */
  private static final Pattern TEMP = Pattern.compile("\\.(.+)\\.pathsgd-(.+)-(\\d+)-[0-9a-f]{16}\\.tmp");
  /** The temporary files of versions before the pattern above ({@code Files.createTempFile(".NAME.", ".tmp")}). */
  private static final Pattern LEGACY = Pattern.compile("\\.(.+)\\.\\d{1,20}\\.tmp");
  /** A legacy temporary file older than this is an orphan: no writer takes an hour over one file. */
  private static final long LEGACY_AGE_MILLIS = 3_600_000L;
  /** The longest part of a target's name kept in its temporary file's name (file names have at most 255 bytes). */
  private static final int NAME_CHARS = 48;
  private static final long PID = ProcessHandle.current().pid();
  private static final String HOST = host();

  /** Writes {@code target} by {@link OutputTarget}'s rule; throws {@link OutputTarget.Refused} or an I/O error. */
  public static void write(Path target, Body body) {
    OutputTarget t = OutputTarget.of(target);
    try {
      if (t.mode() == OutputTarget.Mode.STREAM) {
        stream(t, body);
      } else {
        atomic(t.file(), t.exists(), body);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target + ": " + message(e), e);
    }
  }

  public static void writeString(Path target, String content) {
    write(target, out -> out.write(content.getBytes(StandardCharsets.UTF_8)));
  }

  /**
   * Writes {@code target}, a file pathsgd creates inside the output folder {@code folder}, after checking that no
   * symbolic link on its way leads out of the folder ({@link OutputTarget#checkInside}); then as {@link #write}.
   */
  public static void writeInside(Path folder, Path target, Body body) {
    OutputTarget.checkInside(folder, target);
    write(target, body);
  }

  /** {@link #writeInside} of a string, UTF-8. */
  public static void writeStringInside(Path folder, Path target, String content) {
    writeInside(folder, target, out -> out.write(content.getBytes(StandardCharsets.UTF_8)));
  }

  private static void stream(OutputTarget t, Body body) throws IOException {
    if (t.descriptor()) {
      // what this process printed so far comes first
      System.out.flush();
      System.err.flush();
      java.io.FileDescriptor fd = switch (descriptorNumber(t.file())) {
        case 1 -> java.io.FileDescriptor.out;
        case 2 -> java.io.FileDescriptor.err;
        default -> null;
      };
      if (fd != null) {
        // the descriptor itself, not a second opening of what it points to: a file that stdout is redirected to
        // then gets the bytes where the descriptor stands, and what is printed afterwards follows them
        OutputStream out = new BufferedOutputStream(new java.io.FileOutputStream(fd), 1 << 16);
        body.write(unclosable(out));
        out.flush(); // not closed: the descriptor stays open for the rest of the process
        return;
      }
    }
    StandardOpenOption[] opts = t.descriptor()
        ? new StandardOpenOption[] {StandardOpenOption.WRITE, StandardOpenOption.APPEND}
        : new StandardOpenOption[] {StandardOpenOption.WRITE};
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(t.file(), opts), 1 << 16)) {
      body.write(unclosable(out));
    }
  }

  private static void atomic(Path file, boolean exists, Body body) throws IOException {
    Path dir = file.getParent();
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir);
    }
    String name = file.getFileName().toString();
    cleanOrphans(dir, name);
    Path tmp = null;
    try {
      FileChannel ch = null;
      while (ch == null) {
        tmp = dir.resolve(tempName(name));
        try {
          // default permissions: 0666 less the umask, like any file a shell creates
          ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
          // another random name
        }
      }
      try (FileChannel c = ch; OutputStream out = new BufferedOutputStream(Channels.newOutputStream(c), 1 << 16)) {
        if (exists) {
          keepPermissions(file, tmp);
        }
        body.write(unclosable(out));
        out.flush();
        c.force(true);
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
      syncFolder(dir);
    } finally {
      if (tmp != null) {
        Files.deleteIfExists(tmp);
      }
    }
  }

  /** 1 for /dev/stdout, 2 for /dev/stderr, N for /dev/fd/N and /proc/self/fd/N. */
  static int descriptorNumber(Path p) {
    String f = p.getFileName().toString();
    return switch (f) {
      case "stdout" -> 1;
      case "stderr" -> 2;
      default -> Integer.parseInt(f);
    };
  }

  /** The stream a body gets: closing it only flushes, so that the writer still syncs and renames the file. */
  private static OutputStream unclosable(OutputStream out) {
    return new FilterOutputStream(out) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
      }

      @Override
      public void close() throws IOException {
        out.flush();
      }
    };
  }

  /** A replaced file keeps its permission bits (as a shell's {@code >} keeps them). */
  private static void keepPermissions(Path file, Path tmp) {
    try {
      Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(file));
    } catch (IOException | UnsupportedOperationException e) {
      // no POSIX permissions here, or not ours to copy: the new file keeps the default ones
    }
  }

  /** Makes the rename durable; where a folder cannot be opened for syncing, the rename stands as it is. */
  private static void syncFolder(Path dir) {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      // not supported on this file system
    }
  }

  static String tempName(String name) {
    String stem = name.length() > NAME_CHARS ? name.substring(0, NAME_CHARS) : name;
    return "." + stem + ".pathsgd-" + HOST + "-" + PID + "-"
        + String.format("%016x", ThreadLocalRandom.current().nextLong()) + ".tmp";
  }

  /**
   * Removes the orphaned temporary files of {@code name} in {@code dir}: those of this naming pattern written on this
   * host by a process that no longer runs, and those of the older pattern ({@code .NAME.DIGITS.tmp}) once an hour
   * old. Returns the files removed.
   */
  public static List<Path> cleanOrphans(Path dir, String name) {
    return clean(dir, Set.of(name), false);
  }

  /**
   * Removes every orphaned temporary file of this naming pattern in {@code dir} (see {@link #cleanOrphans(Path,
   * String)}), and those of the older pattern for the given names. Returns the files removed.
   */
  public static List<Path> cleanOrphans(Path dir, Set<String> legacyNames) {
    return clean(dir, legacyNames, true);
  }

  /** {@link #cleanOrphans(Path, Set)} without older-pattern names. */
  public static List<Path> cleanOrphans(Path dir) {
    return clean(dir, Set.of(), true);
  }

  private static List<Path> clean(Path dir, Set<String> names, boolean anyName) {
    List<Path> removed = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return removed;
    }
    Set<String> stems = new java.util.HashSet<>();
    for (String n : names) {
      stems.add(n.length() > NAME_CHARS ? n.substring(0, NAME_CHARS) : n);
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, ".*.tmp")) {
      for (Path p : ds) {
        String f = p.getFileName().toString();
        if (orphan(p, f, names, stems, anyName) && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          try {
            if (Files.deleteIfExists(p)) {
              removed.add(p);
            }
          } catch (IOException e) {
            // not ours to remove after all (permissions): left alone
          }
        }
      }
    } catch (IOException e) {
      // an unreadable folder: nothing to clean; the write itself reports real problems
    }
    return removed;
  }

  private static boolean orphan(Path p, String f, Set<String> names, Set<String> stems, boolean anyName) {
    Matcher m = TEMP.matcher(f);
    if (m.matches()) {
      if (!anyName && !stems.contains(m.group(1))) {
        return false;
      }
      if (!m.group(2).equals(HOST)) {
        return false; // another machine's writer (a shared folder): it may be running
      }
      long pid;
      try {
        pid = Long.parseLong(m.group(3));
      } catch (NumberFormatException e) {
        return false;
      }
      return pid != PID && !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
    Matcher l = LEGACY.matcher(f);
    if (l.matches() && names.contains(l.group(1))) {
      try {
        FileTime t = Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS);
        return System.currentTimeMillis() - t.toMillis() > LEGACY_AGE_MILLIS;
      } catch (IOException e) {
        return false;
      }
    }
    return false;
  }

  /** This machine's name, in the characters a file name keeps safely ({@code localhost} if it has none). */
  private static String host() {
    String h = null;
    try {
      h = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
    } catch (IOException | RuntimeException e) {
      h = System.getenv("HOSTNAME");
    }
    if (h == null || h.isBlank()) {
      try {
        h = java.net.InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        h = "localhost";
      }
    }
    h = h.replaceAll("[^A-Za-z0-9.-]", "_");
    return h.length() > 64 ? h.substring(0, 64) : h;
  }

  private static String message(IOException e) {
    if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
