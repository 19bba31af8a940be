package io.github.pathsgd.experiments.train;

import io.github.pathsgd.experiments.results.AtomicFiles;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An end-of-epoch training checkpoint: the parameters, the optimizer state, the epoch and the history so far. The
 * random streams need no saving: each epoch's shuffle and dropout streams are derived from the run seed and the epoch
 * number, so a resumed run draws exactly what the uninterrupted run would have drawn.
 *
 * <p>Binary format (big-endian): magic {@code PSGDCKPT}, format version 1, the config hash (UTF), the epoch, the
 * parameter count and floats, the optimizer-state entry count and entries (key, kind 0 = float[] / 1 = double[],
 * length, values), then the history records. Written atomically.
 */
public record Checkpoint(String configHash, int epoch, float[] params, Map<String, Object> optState,
    List<EpochRecord> history) {
  private static final long MAGIC = 0x50534744434B5054L; // "PSGDCKPT"
  private static final int VERSION = 1;

  public void write(Path file) {
    AtomicFiles.write(file, raw -> {
      DataOutputStream out = new DataOutputStream(raw);
      out.writeLong(MAGIC);
      out.writeInt(VERSION);
      out.writeUTF(configHash);
      out.writeInt(epoch);
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
        for (double v : new double[] {r.trainLoss(), r.trainError(), r.validationLoss(), r.validationError(),
            r.testLoss(), r.testError(), r.seconds(), r.evalSeconds(), r.kappaClamped()}) {
          out.writeDouble(v);
        }
      }
      out.flush();
    });
  }

  private static void writeFloats(DataOutputStream out, float[] f) throws IOException {
    out.writeInt(f.length);
    java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocate(f.length * 4);
    bb.asFloatBuffer().put(f);
    out.write(bb.array());
  }

  private static float[] readFloats(DataInputStream in, Path file) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > (Files.size(file) / 4)) {
      throw new IOException("checkpoint " + file + ": float array length " + n + " exceeds the file size");
    }
    byte[] b = new byte[n * 4];
    in.readFully(b);
    float[] f = new float[n];
    java.nio.ByteBuffer.wrap(b).asFloatBuffer().get(f);
    return f;
  }

  /** Reads a checkpoint; errors name the file and what is wrong. */
  public static Checkpoint read(Path file) throws IOException {
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      DataInputStream in = new DataInputStream(raw);
      if (in.readLong() != MAGIC) {
        throw new IOException("checkpoint " + file + ": not a pathsgd checkpoint (bad magic at byte 0)");
      }
      int v = in.readInt();
      if (v != VERSION) {
        throw new IOException("checkpoint " + file + ": format version " + v + ", expected " + VERSION);
      }
      String hash = in.readUTF();
      int epoch = in.readInt();
      float[] params = readFloats(in, file);
      int entries = in.readInt();
      Map<String, Object> opt = new LinkedHashMap<>();
      for (int i = 0; i < entries; i++) {
        String key = in.readUTF();
        int kind = in.readByte();
        if (kind == 0) {
          opt.put(key, readFloats(in, file));
        } else if (kind == 1) {
          int n = in.readInt();
          if (n < 0 || n > 1 << 20) {
            throw new IOException("checkpoint " + file + ": bad scalar array length " + n);
          }
          double[] d = new double[n];
          for (int k = 0; k < n; k++) {
            d[k] = in.readDouble();
          }
          opt.put(key, d);
        } else {
          throw new IOException("checkpoint " + file + ": unknown entry kind " + kind + " for " + key);
        }
      }
      int h = in.readInt();
      List<EpochRecord> history = new ArrayList<>();
      for (int i = 0; i < h; i++) {
        int e = in.readInt();
        double[] d = new double[9];
        for (int k = 0; k < 9; k++) {
          d[k] = in.readDouble();
        }
        history.add(new EpochRecord(e, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8]));
      }
      return new Checkpoint(hash, epoch, params, opt, history);
    } catch (EOFException e) {
      throw new IOException("checkpoint " + file + ": truncated", e);
    }
  }
}
