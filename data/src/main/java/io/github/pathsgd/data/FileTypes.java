package io.github.pathsgd.data;

/**
 * The POSIX file-type bits of {@code st_mode} (the {@code unix:mode} file attribute) and their names in messages,
 * shared by the input checks here ({@link InputFiles}) and the output checks of the modules above.
 */
public final class FileTypes {
  /** The mask of the type bits. */
  public static final int S_IFMT = 0170000;
  public static final int S_IFSOCK = 0140000;
  public static final int S_IFLNK = 0120000;
  public static final int S_IFREG = 0100000;
  public static final int S_IFBLK = 0060000;
  public static final int S_IFDIR = 0040000;
  public static final int S_IFCHR = 0020000;
  public static final int S_IFIFO = 0010000;

  private FileTypes() {}

  /** "a FIFO (named pipe)", "a character device", ...; "a special file" for anything else. */
  public static String describe(int type) {
    return switch (type) {
      case S_IFREG -> "a regular file";
      case S_IFDIR -> "a folder";
      case S_IFLNK -> "a symbolic link";
      case S_IFCHR -> "a character device";
      case S_IFBLK -> "a block device";
      case S_IFIFO -> "a FIFO (named pipe)";
      case S_IFSOCK -> "a socket";
      default -> "a special file";
    };
  }
}
