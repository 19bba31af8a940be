package io.github.pathsgd.train.io;

import static io.github.pathsgd.data.FileTypes.S_IFCHR;
import static io.github.pathsgd.data.FileTypes.S_IFDIR;
import static io.github.pathsgd.data.FileTypes.S_IFLNK;
import static io.github.pathsgd.data.FileTypes.S_IFMT;
import static io.github.pathsgd.data.FileTypes.S_IFREG;
import static io.github.pathsgd.data.FileTypes.describe;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * What an output path is, and how pathsgd writes it. Every file pathsgd writes goes through {@link AtomicFiles},
 * which asks this class first; the commands also call {@link #of(Path)} and {@link #checkFolder(Path)} on every
 * output path they are given before they start work, so that a bad path costs nothing.
 *
 * <p>The rule, by what the path names when it is written:
 *
 * <ul>
 *   <li>nothing yet, or a regular file: replaced atomically (a temporary file in the same folder, fsync, rename over
 *       the name). A new file gets the mode 0666 less the umask, as a file a shell's {@code >} creates; a replaced
 *       file keeps its permission bits. A file without write permission is refused, as {@code cp} refuses it. Missing
 *       folders above a new file are created; a part of the path above it that is not a folder is refused;
 *   <li>a symbolic link: followed (at most 40 links). A link to a regular file replaces that file atomically in its
 *       own folder and the link stays a link; a link to a character device writes the device. A dangling link is
 *       refused, as GNU {@code cp} refuses to write through one;
 *   <li>a character device ({@code /dev/null}, {@code /dev/full}, a terminal): written through with a plain stream
 *       write; the device node is never created, renamed over or replaced. The device's own errors are reported
 *       ({@code /dev/full}: no space left on device);
 *   <li>one of this process's descriptors, {@code /dev/stdout}, {@code /dev/stderr}, {@code /dev/fd/N} or {@code
 *       /proc/self/fd/N}: written through to the open descriptor, whatever it is (a terminal, a pipe, a file), after
 *       what the process printed so far (standard output and error are written through the descriptor itself, so a
 *       redirection to a file gets the bytes in order; another N is opened again for appending);
 *   <li>a folder, a FIFO (named pipe), a socket or a block device: refused, with one line that names the path and what
 *       it is. A FIFO is refused because opening one waits for a reader: a run would hang at its end.
 * </ul>
 *
 * <p>The files pathsgd creates inside an output folder ({@code --out} and the run folders under its {@code runs/})
 * are checked further ({@link #checkInside}): a symbolic link on the way from the folder to the file, the file itself
 * included, that leads out of the folder is refused, naming the link and where it leads, so that a link planted in
 * the folder never makes pathsgd write elsewhere. A link that stays inside the folder, and the folder itself being a
 * link, are allowed; the rule above for a path the user names ({@code --save-model}, {@code --out} itself) stands.
 */
public final class OutputTarget {
  /** How a target is written. */
  public enum Mode {
    /** A temporary file in the target's folder renamed over the target. */
    ATOMIC,
    /** A plain stream write into an existing character device or descriptor. */
    STREAM
  }

  /** An output path that pathsgd will not write: the message names the path and what it is. */
  public static final class Refused extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public Refused(String message) {
      super(message);
    }
  }

  /** What a refused special file is expected to be instead. */
  static final String EXPECTED = "an output must be a regular file or a new name (written atomically), or a "
      + "character device such as /dev/null or a terminal (written through)";

  private static final Pattern DESCRIPTOR =
      Pattern.compile("/dev/std(out|err)|/dev/fd/\\d+|/proc/(self|thread-self|" + ProcessHandle.current().pid()
          + ")/fd/\\d+");
  private static final int MAX_LINKS = 40;

  private final Path path;
  private final Path file;
  private final Mode mode;
  private final boolean descriptor;
  private final boolean exists;

  private OutputTarget(Path path, Path file, Mode mode, boolean descriptor, boolean exists) {
    this.path = path;
    this.file = file;
    this.mode = mode;
    this.descriptor = descriptor;
    this.exists = exists;
  }

  /** The path as given. */
  public Path path() {
    return path;
  }

  /** The file that is written: the path itself, or where its symbolic links lead (absolute). */
  public Path file() {
    return file;
  }

  public Mode mode() {
    return mode;
  }

  /** True for /dev/stdout, /dev/stderr, /dev/fd/N and /proc/self/fd/N. */
  public boolean descriptor() {
    return descriptor;
  }

  /** True when {@link #file()} exists (a regular file to replace, or a device or descriptor to write). */
  public boolean exists() {
    return exists;
  }

  /**
   * Classifies an output path by the rule in the class comment.
   *
   * @throws Refused if the path is not one pathsgd writes (a folder, FIFO, socket, block device, a dangling link, a
   *     read-only file, a folder that is not writable, a file where a folder is needed)
   */
  public static OutputTarget of(Path path) {
    Path abs = path.toAbsolutePath().normalize();
    if (DESCRIPTOR.matcher(abs.toString()).matches()) {
      int type = type(abs, true);
      if (type == 0) {
        throw new Refused("cannot write " + path + ": the descriptor is not open");
      }
      if (type == S_IFDIR) {
        throw new Refused("cannot write " + path + ": it is a folder; " + EXPECTED);
      }
      if (!Files.isWritable(abs)) {
        throw new Refused("cannot write " + path + ": the descriptor is not open for writing");
      }
      return new OutputTarget(path, abs, Mode.STREAM, true, true);
    }
    Path real = abs;
    int type = type(real, false);
    int links = 0;
    while (type == S_IFLNK) {
      if (++links > MAX_LINKS) {
        throw new Refused("cannot write " + path + ": more than " + MAX_LINKS + " levels of symbolic links");
      }
      Path to;
      try {
        to = Files.readSymbolicLink(real);
      } catch (IOException e) {
        throw new Refused("cannot write " + path + ": cannot read the symbolic link " + real + ": " + e.getMessage());
      }
      real = real.resolveSibling(to).normalize();
      type = type(real, false);
    }
    String via = links == 0 ? "" : " (" + path + " links to " + real + ")";
    switch (type) {
      case 0 -> {
        if (links > 0) {
          throw new Refused("cannot write " + path + ": it is a symbolic link to " + real + ", which does not exist "
              + "(a dangling link is not written through)");
        }
        checkParent(path, real);
        return new OutputTarget(path, real, Mode.ATOMIC, false, false);
      }
      case S_IFREG -> {
        if (!Files.isWritable(real)) {
          throw new Refused("cannot write " + path + ": the file is read-only" + via);
        }
        Path dir = real.getParent();
        if (!Files.isWritable(dir)) {
          throw new Refused("cannot write " + path + ": its folder " + dir + " is not writable (the file is replaced "
              + "by a new one written beside it)" + via);
        }
        return new OutputTarget(path, real, Mode.ATOMIC, false, true);
      }
      case S_IFCHR -> {
        if (!Files.isWritable(real)) {
          throw new Refused("cannot write " + path + ": the character device is not writable" + via);
        }
        return new OutputTarget(path, real, Mode.STREAM, false, true);
      }
      default -> throw new Refused("cannot write " + path + ": it is " + describe(type) + via + "; " + EXPECTED);
    }
  }

  /**
   * Checks that {@code dir} is, or can become, a folder pathsgd writes its files into: an existing folder (or a link
   * to one) that is writable, or a new name whose nearest existing ancestor is a writable folder.
   *
   * @throws Refused naming the path and what it is otherwise
   */
  public static void checkFolder(Path dir) {
    Path abs = dir.toAbsolutePath().normalize();
    int type = type(abs, true);
    if (type == S_IFDIR) {
      if (!Files.isWritable(abs)) {
        throw new Refused("cannot write into " + dir + ": the folder is not writable");
      }
      return;
    }
    if (type != 0) {
      throw new Refused("cannot write into " + dir + ": it is " + describe(type) + ", not a folder");
    }
    if (type(abs, false) == S_IFLNK) {
      throw new Refused("cannot write into " + dir + ": it is a dangling symbolic link");
    }
    checkParent(dir, abs);
  }

  /**
   * Checks that writing {@code target}, a path inside the output folder {@code folder}, does not go through a symbolic
   * link that leads out of the folder: each part of the path below {@code folder}, {@code target} included, that is
   * a symbolic link must resolve (all its links followed) to a path inside the folder's real path. The folder itself
   * may be a link (the user named it).
   *
   * @throws Refused naming the link, where it leads and the folder
   * @throws IllegalArgumentException if {@code target} is not below {@code folder}
   */
  public static void checkInside(Path folder, Path target) {
    Path root = folder.toAbsolutePath().normalize();
    Path abs = target.toAbsolutePath().normalize();
    if (!abs.startsWith(root) || abs.equals(root)) {
      throw new IllegalArgumentException(target + " is not inside " + folder);
    }
    Path rootReal;
    try {
      rootReal = root.toRealPath();
    } catch (IOException e) {
      return; // no folder yet: nothing inside it can be a link
    }
    Path cur = root;
    for (Path name : root.relativize(abs)) {
      cur = cur.resolve(name);
      int t = type(cur, false);
      if (t == 0) {
        return; // nothing further exists: the writer creates it inside
      }
      if (t == S_IFLNK) {
        Path to = linkTarget(cur);
        if (!to.startsWith(rootReal)) {
          Path shown = folder.resolve(root.relativize(cur));
          throw new Refused("cannot write " + target + ": " + (shown.equals(target) ? "it" : shown) + " is a "
              + "symbolic link to " + to + ", outside the output folder " + folder + "; pathsgd writes its own files "
              + "only inside the output folder (remove the link)");
        }
      }
    }
  }

  /** Where a symbolic link leads, every link followed (for a dangling link, as far as the links go). */
  private static Path linkTarget(Path link) {
    try {
      return link.toRealPath();
    } catch (IOException e) {
      // dangling, or a loop: follow the links as far as they go
    }
    Path p = link;
    for (int i = 0; i < MAX_LINKS && type(p, false) == S_IFLNK; i++) {
      try {
        p = p.resolveSibling(Files.readSymbolicLink(p)).normalize();
      } catch (IOException e) {
        break;
      }
    }
    Path parent = p.getParent();
    try {
      return parent == null ? p : parent.toRealPath().resolve(p.getFileName());
    } catch (IOException e) {
      return p;
    }
  }

  /** A new file's nearest existing ancestor must be a writable folder. */
  private static void checkParent(Path path, Path abs) {
    Path a = abs.getParent();
    while (a != null) {
      int t = type(a, true);
      if (t == S_IFDIR) {
        if (!Files.isWritable(a)) {
          throw new Refused("cannot write " + path + ": the folder " + a + " is not writable");
        }
        return;
      }
      if (t != 0) {
        throw new Refused("cannot write " + path + ": " + a + " is " + describe(t) + ", not a folder");
      }
      if (type(a, false) == S_IFLNK) {
        throw new Refused("cannot write " + path + ": " + a + " is a dangling symbolic link");
      }
      a = a.getParent();
    }
    throw new Refused("cannot write " + path + ": no existing folder above it");
  }

  /** The file type bits of a path (S_IF*), or 0 when nothing is there. */
  static int type(Path p, boolean follow) {
    LinkOption[] opt = follow ? new LinkOption[0] : new LinkOption[] {LinkOption.NOFOLLOW_LINKS};
    try {
      return ((Integer) Files.getAttribute(p, "unix:mode", opt)) & S_IFMT;
    } catch (NoSuchFileException e) {
      return 0;
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      // no unix attribute view: the basic attributes know regular files, folders and links, the rest is "other"
      try {
        var a = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class, opt);
        return a.isRegularFile() ? S_IFREG : a.isDirectory() ? S_IFDIR : a.isSymbolicLink() ? S_IFLNK : -1;
      } catch (NoSuchFileException x) {
        return 0;
      } catch (IOException x) {
        throw new Refused("cannot write " + p + ": " + x.getMessage());
      }
    } catch (java.nio.file.AccessDeniedException e) {
      throw new Refused("cannot write " + p + ": permission denied");
    } catch (java.nio.file.FileSystemException e) {
      // ENOTDIR (a part of the path is a file) and the like: nothing can be there; the caller's walk up the path
      // finds and names the part that is not a folder
      return 0;
    } catch (IOException e) {
      throw new Refused("cannot write " + p + ": " + e.getMessage());
    }
  }
}
