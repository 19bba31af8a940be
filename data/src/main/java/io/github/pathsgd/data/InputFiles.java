package io.github.pathsgd.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.Locale;

/**
 * Checks every input file of the command line (config, model, checkpoint, data files) before it is opened: it must
 * be a regular file (symbolic links followed). A FIFO is never opened for reading, since opening one blocks until a
 * writer appears; a device such as {@code /dev/zero} or {@code /dev/urandom} never ends; a directory is not a file.
 * Each is refused with one line that names what the file is for, the path and what it really is.
 *
 * <p>The check reads only the file's attributes ({@code stat}), which never blocks. This module is the lowest one
 * with file input, so every module above it (experiments, cli) uses the same helper.
 */
public final class InputFiles {
  private InputFiles() {}

  /**
   * Refuses anything but an existing regular file.
   *
   * @param path the file
   * @param what what the file is for, e.g. {@code "config"}, {@code "model"}, {@code "checkpoint"}; starts the
   *     message
   * @throws IllegalArgumentException naming {@code what}, the path and what it is instead (missing, a directory, a
   *     FIFO, a device, a socket, a broken or looping symbolic link)
   */
  public static void requireRegular(Path path, String what) {
    String p = problem(path);
    if (p != null) {
      throw new IllegalArgumentException(what + " " + path + ": " + p);
    }
  }

  /**
   * What is wrong with {@code path} as an input file, or {@code null} for an existing regular file (after following
   * symbolic links). The text is a phrase to follow the path, e.g. {@code "is a FIFO (named pipe), expected a regular
   * file ..."}.
   */
  public static String problem(Path path) {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(path, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      if (Files.isSymbolicLink(path)) {
        String target = "?";
        try {
          target = Files.readSymbolicLink(path).toString();
        } catch (IOException | UnsupportedOperationException ignored) {
          // keep "?"
        }
        return "is a broken symbolic link (its target " + target + " does not exist)";
      }
      return "file not found";
    } catch (java.nio.file.AccessDeniedException e) {
      return "permission denied (cannot read the file's attributes)";
    } catch (FileSystemException e) {
      String reason = e.getReason() == null ? e.getClass().getSimpleName() : e.getReason();
      if (reason.toLowerCase(Locale.ROOT).contains("too many levels of symbolic links")) {
        return "is a symbolic link loop (" + reason + ")";
      }
      return "cannot read the file's attributes (" + reason + ")";
    } catch (IOException e) {
      return "cannot read the file's attributes (" + e + ")";
    }
    if (a.isRegularFile()) {
      return null;
    }
    if (a.isDirectory()) {
      return "is a directory, expected a file";
    }
    return "is " + kind(path) + ", expected a regular file (pipes, devices and sockets are never read: they can "
        + "block forever or never end)";
  }

  /** "a FIFO (named pipe)", "a character device", ... for a path that is neither a regular file nor a directory. */
  private static String kind(Path path) {
    try {
      Object m = Files.getAttribute(path, "unix:mode");
      if (m instanceof Integer mode) {
        return FileTypes.describe(mode & FileTypes.S_IFMT);
      }
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      // not a Unix file system: fall through
    }
    return "a special file (a pipe, device or socket)";
  }

  /**
   * Reads a whole regular file of at most {@code maxBytes} bytes. The size is checked before reading and again while
   * reading (a file that grows is refused as well), so at most {@code maxBytes + 1} bytes are ever held.
   *
   * @param what what the file is for, starts every message
   * @throws IllegalArgumentException for a file that is not regular (see {@link #requireRegular}) or larger than
   *     {@code maxBytes}
   * @throws IOException when reading fails
   */
  public static byte[] readBounded(Path path, long maxBytes, String what) throws IOException {
    requireRegular(path, what);
    long size = Files.size(path);
    if (size > maxBytes) {
      throw new IllegalArgumentException(what + " " + path + ": file has " + size + " bytes, more than the "
          + maxBytes + " bytes accepted for a " + what + " file");
    }
    int cap = (int) Math.min(maxBytes + 1, Integer.MAX_VALUE - 16);
    byte[] buf = new byte[(int) Math.min(cap, Math.max(size, 0) + 1)];
    int len = 0;
    try (InputStream in = Files.newInputStream(path)) {
      while (true) {
        if (len == buf.length) {
          if (buf.length >= cap) {
            break;
          }
          buf = Arrays.copyOf(buf, (int) Math.min(cap, buf.length * 2L));
        }
        int r = in.read(buf, len, buf.length - len);
        if (r < 0) {
          break;
        }
        len += r;
      }
    }
    if (len > maxBytes) {
      throw new IllegalArgumentException(what + " " + path + ": file has more than the " + maxBytes
          + " bytes accepted for a " + what + " file (it grew while being read)");
    }
    return len == buf.length ? buf : Arrays.copyOf(buf, len);
  }

  /** Why an I/O operation failed, in words, without the Java exception's name (for one-line errors). */
  public static String reason(java.io.IOException e) {
    if (e instanceof java.nio.file.NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof java.nio.file.AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    return e.getMessage() == null || e.getMessage().isBlank() ? "input/output error" : e.getMessage();
  }
}
