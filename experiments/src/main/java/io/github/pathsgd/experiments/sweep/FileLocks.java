package io.github.pathsgd.experiments.sweep;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/**
 * Exclusive locks on lock files, between processes (OS file locks, {@link FileChannel#tryLock()}) and between the
 * threads of this JVM (a semaphore per lock file).
 *
 * <p>Why both: an OS file lock belongs to the process, so two threads of one JVM cannot exclude each other with it
 * (the JVM throws {@link OverlappingFileLockException}), and on Linux closing <em>any</em> channel of a file drops
 * every lock the process holds on it. So this JVM opens at most one channel per lock file at a time, guarded by the
 * semaphore. The OS releases a file lock when its process ends, however it ends (kill -9 included), so a killed sweep
 * never leaves a run locked. Lock files are never deleted: deleting one while another process waits on it would let
 * two processes lock two different files of the same name.
 *
 * <p>While held, a lock file holds one line naming the holder ({@code pid P on host H since T}), for messages.
 */
final class FileLocks {
  private FileLocks() {}

  private static final ConcurrentHashMap<Path, Semaphore> IN_JVM = new ConcurrentHashMap<>();
  private static final java.util.List<FileChannel> LEAKED = java.util.Collections.synchronizedList(
      new java.util.ArrayList<>());

  /** A held lock; {@link #close()} releases it. */
  static final class Held implements AutoCloseable {
    private final Path file;
    private final Semaphore sem;
    private final FileChannel ch;
    private final FileLock lock;
    private boolean closed;

    private Held(Path file, Semaphore sem, FileChannel ch, FileLock lock) {
      this.file = file;
      this.sem = sem;
      this.ch = ch;
      this.lock = lock;
    }

    Path file() {
      return file;
    }

    @Override
    public synchronized void close() {
      if (closed) {
        return;
      }
      closed = true;
      try {
        lock.release();
      } catch (IOException ignored) {
        // closing the channel below releases it too
      } finally {
        try {
          ch.close();
        } catch (IOException ignored) {
          // the lock goes with the channel
        }
        sem.release();
      }
    }
  }

  /** Locks {@code file} if no other process or thread holds it; null if one does. */
  static Held tryLock(Path file) {
    return acquire(file, false);
  }

  /** Locks {@code file}, waiting as long as another process or thread holds it. */
  static Held lock(Path file) {
    return acquire(file, true);
  }

  private static Held acquire(Path file, boolean wait) {
    Path key = key(file);
    Semaphore sem = IN_JVM.computeIfAbsent(key, k -> new Semaphore(1));
    if (wait) {
      try {
        sem.acquire();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the lock " + file, e);
      }
    } else if (!sem.tryAcquire()) {
      return null;
    }
    FileChannel ch = null;
    boolean ok = false;
    try {
      if (Files.isSymbolicLink(key) || Files.exists(key, LinkOption.NOFOLLOW_LINKS)
          && !Files.isRegularFile(key, LinkOption.NOFOLLOW_LINKS)) {
        throw new IllegalArgumentException("cannot lock " + file + ": it is " + (Files.isSymbolicLink(key)
            ? "a symbolic link" : "not a regular file") + ", expected a lock file of the sweep (remove it)");
      }
      ch = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE,
          LinkOption.NOFOLLOW_LINKS);
      FileLock lock;
      try {
        lock = wait ? ch.lock() : ch.tryLock();
      } catch (OverlappingFileLockException e) {
        // another channel of this JVM locks the same file under another name (a hard link): busy. Closing this
        // channel would drop that lock on Linux, so it stays open.
        LEAKED.add(ch);
        ch = null;
        lock = null;
      }
      if (lock == null) {
        return null;
      }
      ch.truncate(0);
      ch.write(ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + " on host " + host() + " since "
          + Instant.now().truncatedTo(ChronoUnit.SECONDS) + "\n").getBytes(StandardCharsets.UTF_8)), 0);
      ok = true;
      return new Held(key, sem, ch, lock);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot lock " + file + ": " + e.getMessage() + " (does this file system "
          + "support file locks? see docs/experiments.md)", e);
    } finally {
      if (!ok) {
        if (ch != null) {
          try {
            ch.close();
          } catch (IOException ignored) {
            // nothing was locked through it
          }
        }
        sem.release();
      }
    }
  }

  /** Who holds {@code file}, as its holder wrote it ("pid P on host H since T"), or "an unknown process". */
  static String holder(Path file) {
    try {
      if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) && Files.size(file) < 4096) {
        String s = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (!s.isEmpty() && s.indexOf('\n') < 0) {
          return s;
        }
      }
    } catch (IOException | UncheckedIOException e) {
      // fall through
    }
    return "an unknown process";
  }

  /** The canonical path of a lock file (its folder resolved), so that two spellings of one file share a semaphore. */
  private static Path key(Path file) {
    Path abs = file.toAbsolutePath().normalize();
    try {
      return abs.getParent().toRealPath().resolve(abs.getFileName());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot lock " + file + ": " + e.getMessage(), e);
    }
  }

  private static volatile String host;

  /** This machine's name: $HOSTNAME, else /etc/hostname, else the resolver's. */
  static String host() {
    String h = host;
    if (h == null) {
      h = System.getenv("HOSTNAME");
      if (h == null || h.isBlank()) {
        try {
          h = Files.readString(Path.of("/etc/hostname"), StandardCharsets.UTF_8).strip();
        } catch (IOException | RuntimeException e) {
          h = null;
        }
      }
      if (h == null || h.isBlank()) {
        try {
          h = java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
          h = "unknown";
        }
      }
      host = h;
    }
    return h;
  }
}
