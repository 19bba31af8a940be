package io.github.pathsgd.train.checkpoint;

import static io.github.pathsgd.train.checkpoint.Checkpoint.MAGIC;
import static io.github.pathsgd.train.checkpoint.Checkpoint.MIN_SIZE;
import static io.github.pathsgd.train.checkpoint.Checkpoint.NORM_BYTES;
import static io.github.pathsgd.train.checkpoint.Checkpoint.RECORD_BYTES;
import static io.github.pathsgd.train.checkpoint.Checkpoint.VERSION;

import io.github.pathsgd.core.geometry.ModelNorms;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.train.checkpoint.Checkpoint.InvalidCheckpointException;
import io.github.pathsgd.train.history.EpochRecord;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/** The checking reader of {@link Checkpoint}'s format: every field bounded and checked, then the history records. */
final class CheckpointReader {
  private CheckpointReader() {}

  /** The stream being parsed, with the number of content bytes (before the CRC) still unread. */
  private static final class Input {
    final DataInputStream in;
    final Path file;
    long left;

    Input(DataInputStream in, Path file, long left) {
      this.in = in;
      this.file = file;
      this.left = left;
    }

    /** Refuses unless {@code count} items of {@code bytes} bytes each are still in the file. */
    void need(long count, int bytes, String what) throws IOException {
      if (count < 0 || count > left / bytes) {
        throw new InvalidCheckpointException(file, what + " " + count + (bytes == 1 ? "" : " × " + bytes)
            + " bytes does not fit in the " + left + " bytes left before the checksum");
      }
      left -= count * bytes;
    }

    int readInt() throws IOException {
      need(1, 4, "field of");
      return in.readInt();
    }

    String readUTF(String what) throws IOException {
      need(1, 2, what + " length");
      in.mark(2);
      int n = in.readUnsignedShort();
      in.reset();
      need(n, 1, what + " length");
      return in.readUTF();
    }

    float[] readFloats(String what) throws IOException {
      int n = readInt();
      need(n, 4, what);
      float[] f = new float[n];
      byte[] b = new byte[Math.min(n, 1 << 18) * 4];
      for (int from = 0; from < n; from += b.length / 4) {
        int k = Math.min(b.length / 4, n - from);
        in.readFully(b, 0, 4 * k);
        ByteBuffer.wrap(b, 0, 4 * k).asFloatBuffer().get(f, from, k);
      }
      return f;
    }
  }

  /** {@link Checkpoint#read(Path)} on an open channel; {@code file} names it in errors. */
  static Checkpoint read(SeekableByteChannel ch, Path file) throws IOException {
    long size = ch.size();
    if (size < MIN_SIZE) {
      throw new InvalidCheckpointException(file, "truncated: " + size + " bytes, a checkpoint has at least "
          + MIN_SIZE);
    }
    ByteBuffer head = ByteBuffer.allocate(12);
    readFully(ch, file, head, 0);
    if (head.getLong(0) != MAGIC) {
      throw new InvalidCheckpointException(file, "not a pathsgd checkpoint (bad magic at byte 0)");
    }
    int v = head.getInt(8);
    if (v != VERSION) {
      throw new InvalidCheckpointException(file, "format version " + v + " at byte 8, expected " + VERSION
          + (v >= 1 && v < VERSION ? " (written by an earlier pathsgd, before version " + VERSION + " added the "
              + "norms of each epoch)" : ""));
    }
    checksum(ch, file, size);
    ch.position(12);
    DataInputStream in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(ch),
        (int) Math.min(1 << 16, size)));
    try {
      Input c = new Input(in, file, size - 4 - 12);
      String hash = c.readUTF("config hash");
      if (hash.isEmpty()) {
        throw new InvalidCheckpointException(file, "empty config hash");
      }
      int nw = c.readInt();
      c.need(nw, 4, "width count");
      if (nw < 2) {
        throw new InvalidCheckpointException(file, "width count " + nw + ", expected at least 2");
      }
      int[] widths = new int[nw];
      for (int i = 0; i < nw; i++) {
        widths[i] = in.readInt();
      }
      int layoutSize;
      if (nw == 2 && widths[0] == 0) { // a network of layers: {0, parameter count}
        if (widths[1] < 1) {
          throw new InvalidCheckpointException(file, "layout " + Arrays.toString(widths) + ": a network of layers "
              + "needs a positive parameter count");
        }
        layoutSize = widths[1];
      } else {
        try {
          layoutSize = new DenseChain(widths).size();
        } catch (IllegalArgumentException e) {
          throw new InvalidCheckpointException(file, "layout " + Arrays.toString(widths) + ": " + e.getMessage());
        }
      }
      int epoch = c.readInt();
      if (epoch < 0) {
        throw new InvalidCheckpointException(file, "epoch " + epoch + ", expected >= 0");
      }
      int steps = c.readInt();
      if (steps < 1) {
        throw new InvalidCheckpointException(file, "steps per epoch " + steps + ", expected >= 1");
      }
      float[] params = c.readFloats("parameter count");
      if (params.length != layoutSize) {
        throw new InvalidCheckpointException(file, params.length + " parameters, the layout "
            + Checkpoint.describe(widths) + " has " + layoutSize);
      }
      for (int i = 0; i < params.length; i++) {
        if (!Float.isFinite(params[i])) {
          throw new InvalidCheckpointException(file, "parameter " + i + " is " + params[i]);
        }
      }
      long count = (long) epoch * steps;
      int entries = c.readInt();
      c.need(entries, 7, "optimizer entry count"); // at least a 2-byte key, a kind and a 4-byte length each
      c.left += 7L * entries;
      Map<String, Object> opt = new LinkedHashMap<>();
      for (int i = 0; i < entries; i++) {
        String key = c.readUTF("optimizer key");
        if (key.isEmpty() || opt.containsKey(key)) {
          throw new InvalidCheckpointException(file, "optimizer entry " + i + " has an empty or repeated key '"
              + key + "'");
        }
        c.need(1, 1, "entry kind");
        int kind = in.readByte();
        if (kind == 0) {
          opt.put(key, c.readFloats("length of optimizer buffer '" + key + "'"));
        } else if (kind == 1) {
          int n = c.readInt();
          if (n != 1) {
            throw new InvalidCheckpointException(file, "optimizer scalar '" + key + "' has " + n
                + " values, expected 1");
          }
          c.need(1, 8, "optimizer scalar");
          double d = in.readDouble();
          if (key.endsWith("#count") && d != count) {
            throw new InvalidCheckpointException(file, "optimizer step count '" + key + "' is " + d + ", expected "
                + count + " (epoch " + epoch + " × " + steps + " steps)");
          }
          opt.put(key, new double[] {d});
        } else {
          throw new InvalidCheckpointException(file, "unknown entry kind " + kind + " for optimizer entry '" + key
              + "'");
        }
      }
      if (!opt.containsKey("#count")) {
        throw new InvalidCheckpointException(file, "the optimizer state lacks its step count '#count'");
      }
      int h = c.readInt();
      if (h != epoch + 1L) {
        throw new InvalidCheckpointException(file, "history of " + h + " epochs, expected " + (epoch + 1L)
            + " (epochs 0.." + epoch + ")");
      }
      c.need(h, RECORD_BYTES, "history length");
      List<EpochRecord> history = new ArrayList<>();
      for (int i = 0; i < h; i++) {
        int e = in.readInt();
        double[] d = new double[9];
        for (int k = 0; k < 9; k++) {
          d[k] = in.readDouble();
        }
        EpochRecord r = new EpochRecord(e, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8]);
        int flag = in.readUnsignedByte();
        if (flag == 1) {
          c.need(1, NORM_BYTES, "history record " + i + " norms of");
          double[] n = new double[ModelNorms.NAMES.size()];
          for (int k = 0; k < n.length; k++) {
            n[k] = in.readDouble();
            if (n[k] < 0) { // NaN (a network with NaN weights) and +inf (beyond the double range) are norms too
              throw new InvalidCheckpointException(file, "history record " + i + ": " + ModelNorms.NAMES.get(k)
                  + " " + n[k] + ", expected >= 0");
            }
          }
          r = r.withNorms(ModelNorms.ofValues(n), in.readDouble());
          if (!time(r.normSeconds())) {
            throw new InvalidCheckpointException(file, "history record " + i + ": norm seconds " + r.normSeconds()
                + ", expected finite and >= 0");
          }
        } else if (flag != 0) {
          throw new InvalidCheckpointException(file, "history record " + i + ": norms flag " + flag
              + ", expected 0 (none) or 1");
        }
        checkRecord(file, i, r);
        history.add(r);
      }
      if (c.left != 0) {
        throw new InvalidCheckpointException(file, c.left + " unexpected bytes after the history");
      }
      return new Checkpoint(hash, widths, epoch, steps, params, opt, history);
    } catch (EOFException | java.io.UTFDataFormatException e) {
      throw new InvalidCheckpointException(file, "truncated or damaged (" + e + ")");
    }
  }

  /** Compares the stored CRC32C (the last 4 bytes) with that of everything before it. */
  private static void checksum(SeekableByteChannel ch, Path file, long size) throws IOException {
    CRC32C crc = new CRC32C();
    ByteBuffer b = ByteBuffer.allocate((int) Math.min(1 << 20, size));
    long end = size - 4;
    for (long pos = 0; pos < end; ) {
      b.clear().limit((int) Math.min(b.capacity(), end - pos));
      readFully(ch, file, b, pos);
      b.flip();
      crc.update(b);
      pos += b.limit();
    }
    ByteBuffer t = ByteBuffer.allocate(4);
    readFully(ch, file, t, end);
    int stored = t.getInt(0);
    if (stored != (int) crc.getValue()) {
      throw new InvalidCheckpointException(file, String.format("checksum mismatch (CRC32C stored %08x, computed "
          + "%08x over %d bytes): the file is truncated or damaged", stored, (int) crc.getValue(), size - 4));
    }
  }

  /** Fills {@code b} (from its position 0) with the bytes at {@code pos}. */
  private static void readFully(SeekableByteChannel ch, Path file, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      ch.position(pos + b.position());
      if (ch.read(b) < 0) {
        throw new InvalidCheckpointException(file, "truncated while it was read (at byte " + (pos + b.position())
            + ")");
      }
    }
  }

  private static void checkRecord(Path file, int i, EpochRecord r) throws IOException {
    String bad = null;
    if (r.epoch() != i) {
      bad = "epoch " + r.epoch() + ", expected " + i;
    } else if (!(r.trainLoss() >= 0) || Double.isInfinite(r.trainLoss())) {
      bad = "train loss " + r.trainLoss() + ", expected a finite number >= 0";
    } else if (!(r.trainError() >= 0 && r.trainError() <= 1)) {
      bad = "train error " + r.trainError() + ", expected a fraction in [0, 1]";
    } else if (r.validationLoss() < 0 || r.testLoss() < 0) {
      bad = "validation/test loss " + r.validationLoss() + "/" + r.testLoss() + ", expected >= 0 or NaN";
    } else if (!fraction(r.validationError()) || !fraction(r.testError())) {
      bad = "validation/test error " + r.validationError() + "/" + r.testError() + ", expected in [0, 1] or NaN";
    } else if (!time(r.seconds()) || !time(r.evalSeconds())) {
      bad = "seconds " + r.seconds() + "/" + r.evalSeconds() + ", expected finite and >= 0";
    } else if (!time(r.kappaClamped())) {
      bad = "kappa_clamped " + r.kappaClamped() + ", expected finite and >= 0";
    }
    if (bad != null) {
      throw new InvalidCheckpointException(file, "history record " + i + ": " + bad);
    }
  }

  private static boolean fraction(double v) {
    return Double.isNaN(v) || (v >= 0 && v <= 1);
  }

  private static boolean time(double v) {
    return v >= 0 && v < Double.POSITIVE_INFINITY;
  }
}
