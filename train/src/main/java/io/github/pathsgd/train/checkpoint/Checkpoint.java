package io.github.pathsgd.train.checkpoint;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.NetLayout;
import io.github.pathsgd.data.InputFiles;
import io.github.pathsgd.train.history.EpochRecord;
import io.github.pathsgd.train.io.AtomicFiles;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.CRC32C;

/**
 * An end-of-epoch training checkpoint: the parameters, the optimizer state, the epoch and the history so far. The
 * random streams need no saving: each epoch's shuffle and dropout streams are derived from the run seed and the epoch
 * number, so a resumed run draws exactly what the uninterrupted run would have drawn (the file holds no random state).
 *
 * <p>Binary format (big-endian), version 3: magic {@code PSGDCKPT}, the format version, the config hash (UTF), the
 * layout (width count, widths n_0..n_L; for a network of layers, convolutions and pooling, the two ints 0 and the
 * parameter count: its structure is part of the config hash), the epoch, the steps per epoch, the parameter count and
 * floats, the
 * optimizer-state entry count and entries (key, kind 0 = float[] / 1 = double[], length, values), the history records
 * (count, then per record the epoch, nine doubles and a flag byte: 0 = no norms, 1 = followed by the six {@code
 * ModelNorms} and their seconds as doubles), and last the CRC32C of every byte before it. Written atomically. Version 2
 * (records without the flag and norms) is refused, naming the version, so a run resumed under version 3 never has
 * epochs without the norms it records.
 *
 * <p>{@link #read} refuses, with an {@link InvalidCheckpointException} that names the file and the field, anything
 * that is not exactly such a file: a bad magic or version, a checksum that does not match (so any flipped bit, cut or
 * added byte), and, checked one by one, fields out of range (every length is bounded by the bytes actually left in
 * the file before anything is allocated; the parameter count must equal the layout's; counts must equal epoch × steps
 * per epoch; the history must hold the epochs 0..epoch in order with losses ≥ 0, errors in [0, 1] and times ≥ 0).
 * {@link #readForResume} adds the checks against the run that wants to resume.
 */
public record Checkpoint(String configHash, int[] widths, int epoch, int stepsPerEpoch, float[] params,
    Map<String, Object> optState, List<EpochRecord> history) {
  static final long MAGIC = 0x50534744434B5054L; // "PSGDCKPT"
  static final int VERSION = 3;
  /** Magic, version and CRC: no checkpoint is shorter. */
  static final int MIN_SIZE = 8 + 4 + 4;
  /** A history record without norms: the epoch, nine doubles and the norms flag. */
  static final int RECORD_BYTES = 4 + 9 * 8 + 1;
  /** The norms of a record that has them: six norms and their seconds. */
  static final int NORM_BYTES = 7 * 8;

  /** A checkpoint file that is damaged, of another format, or not the one of the run; the message names the file. */
  public static final class InvalidCheckpointException extends IOException {
    private static final long serialVersionUID = 1L;

    InvalidCheckpointException(Path file, String what) {
      super("checkpoint " + file + ": " + what);
    }
  }

  /** The layout field of a network: an MLP's widths, or {0, parameter count} for a network of layers. */
  public static int[] widths(NetLayout layout) {
    return layout.checkpointWidths();
  }

  /** The layout field in words. */
  static String describe(int[] widths) {
    return widths.length == 2 && widths[0] == 0 ? "(network of layers, " + widths[1] + " parameters)"
        : new DenseChain(widths).toString();
  }

  public void write(Path file) {
    AtomicFiles.write(file, raw -> {
      CRC32C crc = new CRC32C();
      DataOutputStream out = new DataOutputStream(new OutputStream() {
        @Override
        public void write(int b) throws IOException {
          crc.update(b);
          raw.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          crc.update(b, off, len);
          raw.write(b, off, len);
        }
      });
      out.writeLong(MAGIC);
      out.writeInt(VERSION);
      out.writeUTF(configHash);
      out.writeInt(widths.length);
      for (int w : widths) {
        out.writeInt(w);
      }
      out.writeInt(epoch);
      out.writeInt(stepsPerEpoch);
      writeFloats(out, params);
      out.writeInt(optState.size());
      for (var e : optState.entrySet()) {
        out.writeUTF(e.getKey());
        if (e.getValue() instanceof float[] f) {
          out.writeByte(0);
          writeFloats(out, f);
        } else if (e.getValue() instanceof double[] d) {
          out.writeByte(1);
          out.writeInt(d.length);
          for (double v : d) {
            out.writeDouble(v);
          }
        } else {
          throw new IOException("optimizer state entry " + e.getKey() + " has unsupported type");
        }
      }
      out.writeInt(history.size());
      for (EpochRecord r : history) {
        out.writeInt(r.epoch());
        for (double v : values(r)) {
          out.writeDouble(v);
        }
        out.writeByte(r.norms() == null ? 0 : 1);
        if (r.norms() != null) {
          for (double v : r.norms().values()) {
            out.writeDouble(v);
          }
          out.writeDouble(r.normSeconds());
        }
      }
      out.flush();
      new DataOutputStream(raw).writeInt((int) crc.getValue());
    });
  }

  private static double[] values(EpochRecord r) {
    return new double[] {r.trainLoss(), r.trainError(), r.validationLoss(), r.validationError(), r.testLoss(),
        r.testError(), r.seconds(), r.evalSeconds(), r.kappaClamped()};
  }

  private static void writeFloats(DataOutputStream out, float[] f) throws IOException {
    out.writeInt(f.length);
    ByteBuffer bb = ByteBuffer.allocate(Math.min(f.length, 1 << 18) * 4);
    for (int from = 0; from < f.length; from += bb.capacity() / 4) {
      int n = Math.min(bb.capacity() / 4, f.length - from);
      bb.clear();
      bb.asFloatBuffer().put(f, from, n);
      out.write(bb.array(), 0, 4 * n);
    }
  }

  /**
   * Reads a checkpoint and checks it on its own (see the class comment); errors name the file and what is wrong.
   *
   * @throws InvalidCheckpointException if the file is not an intact checkpoint of this format
   */
  public static Checkpoint read(Path file) throws IOException {
    InputFiles.requireRegular(file, "checkpoint"); // a FIFO would block on open
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return read(ch, file);
    }
  }

  /** {@link #read(Path)} on an open channel; {@code file} names it in errors (tests read from memory). */
  static Checkpoint read(SeekableByteChannel ch, Path file) throws IOException {
    return CheckpointReader.read(ch, file);
  }

  /**
   * Reads {@code file} and checks that it is a checkpoint this run can resume from: written for the same config
   * hash, layout and steps per epoch, at an epoch within the epoch budget, with exactly the optimizer state
   * {@code freshState} (a newly initialized state's {@code export()}) has, every buffer of its length. A checkpoint
   * that fails is never resumed: the exception names the file, what is wrong, and how to start over.
   */
  public static Checkpoint readForResume(Path file, String configHash, NetLayout layout, int epochs,
      int stepsPerEpoch, Map<String, Object> freshState) throws IOException {
    InputFiles.requireRegular(file, "checkpoint"); // a FIFO would block on open
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return readForResume(ch, file, configHash, layout, epochs, stepsPerEpoch, freshState);
    }
  }

  /** {@link #readForResume(Path, String, NetLayout, int, int, Map)} on an open channel named {@code file}. */
  static Checkpoint readForResume(SeekableByteChannel ch, Path file, String configHash, NetLayout layout,
      int epochs, int stepsPerEpoch, Map<String, Object> freshState) throws IOException {
    try {
      Checkpoint c = read(ch, file);
      String bad = c.mismatch(configHash, layout, epochs, stepsPerEpoch, freshState);
      if (bad != null) {
        throw new InvalidCheckpointException(file, bad);
      }
      return c;
    } catch (InvalidCheckpointException e) {
      throw new InvalidCheckpointException(file, e.getMessage().substring(("checkpoint " + file + ": ").length())
          + "; not resumed (delete " + file + " to start the run over)");
    }
  }

  /** Why this checkpoint does not belong to the run described by the arguments, or null if it does. */
  private String mismatch(String hash, NetLayout layout, int epochs, int steps, Map<String, Object> fresh) {
    if (!configHash.equals(hash)) {
      return "written for config hash " + configHash + ", this run's is " + hash;
    }
    if (!Arrays.equals(widths, widths(layout))) {
      return "layout " + describe(widths) + ", this run's network is " + describe(widths(layout));
    }
    if (epoch > epochs) {
      return "epoch " + epoch + " beyond this run's epoch budget of " + epochs;
    }
    if (stepsPerEpoch != steps) {
      return stepsPerEpoch + " steps per epoch, this run takes " + steps;
    }
    Set<String> states = new TreeSet<>();
    for (String k : fresh.keySet()) {
      if (k.endsWith("#count")) {
        states.add(k.substring(0, k.length() - "#count".length()));
      }
    }
    for (var e : fresh.entrySet()) {
      Object saved = optState.get(e.getKey());
      if (saved == null || saved.getClass() != e.getValue().getClass()) {
        return "optimizer entry '" + e.getKey() + "' missing or of the wrong kind";
      }
      if (saved instanceof float[] f && f.length != ((float[]) e.getValue()).length) {
        return "optimizer buffer '" + e.getKey() + "' has " + f.length + " floats, expected "
            + ((float[]) e.getValue()).length;
      }
    }
    for (var e : optState.entrySet()) {
      String k = e.getKey();
      if (fresh.containsKey(k)) {
        continue;
      }
      int dollar = k.lastIndexOf('$');
      // scalars a transform sets during its updates (not at init) may be absent from a fresh state
      if (dollar < 0 || !(e.getValue() instanceof double[]) || !states.contains(k.substring(0, dollar))
          || k.indexOf('.', dollar) >= 0) {
        return "unexpected optimizer entry '" + k + "' (this run's optimizer has " + fresh.keySet() + ")";
      }
    }
    return null;
  }
}
