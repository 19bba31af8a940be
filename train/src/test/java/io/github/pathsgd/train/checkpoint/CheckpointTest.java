package io.github.pathsgd.train.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.core.geometry.ModelNorms;
import io.github.pathsgd.train.history.EpochRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
  @Test
  void roundTrip(@TempDir Path tmp) throws IOException {
    Map<String, Object> opt = new LinkedHashMap<>();
    opt.put("#count", new double[] {7});
    opt.put("0.momentum", new float[] {1.5f, -2f});
    EpochRecord r0 = new EpochRecord(0, 2.5, 0.9, 2.4, 0.85, 2.45, 0.875, 0, 0.1, 0);
    EpochRecord r = new EpochRecord(1, 0.5, 0.1, Double.NaN, 0.2, 0.6, 0.25, 1.5, 0.1, 3);
    // layout 1-1-1: w0, b0, w1, b1; one epoch of 7 steps
    Checkpoint c = new Checkpoint("abc", new int[] {1, 1, 1}, 1, 7, new float[] {1, 2, 3, 4}, opt, List.of(r0, r));
    Path f = tmp.resolve("c.bin");
    c.write(f);
    Checkpoint back = Checkpoint.read(f);
    assertThat(back.configHash()).isEqualTo("abc");
    assertThat(back.epoch()).isEqualTo(1);
    assertThat(back.widths()).containsExactly(1, 1, 1);
    assertThat(back.stepsPerEpoch()).isEqualTo(7);
    assertThat(back.params()).containsExactly(1, 2, 3, 4);
    assertThat((double[]) back.optState().get("#count")).containsExactly(7);
    assertThat((float[]) back.optState().get("0.momentum")).containsExactly(1.5f, -2f);
    assertThat(back.history()).containsExactly(r0, r);
    // no temporary file is left behind
    try (var s = Files.list(tmp)) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactly("c.bin");
    }
  }

  @Test
  void truncatedOrForeignFilesAreRejectedWithTheirName(@TempDir Path tmp) throws IOException {
    Path f = tmp.resolve("c.bin");
    EpochRecord r0 = new EpochRecord(0, 2.5, 0.9, 2.4, 0.85, 2.45, 0.875, 0, 0.1, 0);
    new Checkpoint("abc", new int[] {1, 1, 1}, 0, 1, new float[] {1, 2, 3, 4}, Map.of("#count", new double[] {0}),
        List.of(r0)).write(f);
    byte[] all = Files.readAllBytes(f);
    Files.write(f, java.util.Arrays.copyOf(all, all.length - 5));
    assertThatThrownBy(() -> Checkpoint.read(f)).isInstanceOf(IOException.class).hasMessageContaining("c.bin")
        .hasMessageContaining("truncated");
    Files.writeString(f, "hello world, not a checkpoint");
    assertThatThrownBy(() -> Checkpoint.read(f)).hasMessageContaining("bad magic");
  }

  /** Format version 3: the norms of each record survive; version 2 files are refused, naming the version. */
  @Test
  void normsRoundTripAndAnOlderVersionIsRefused(@TempDir Path tmp) throws IOException {
    EpochRecord r0 = new EpochRecord(0, 2.5, 0.9, 2.4, 0.85, 2.45, 0.875, 0, 0.1, 0)
        .withNorms(new ModelNorms(1.5, 0.75, 0.25, 3, 2, Double.POSITIVE_INFINITY), 0.01);
    EpochRecord r1 = new EpochRecord(1, 0.5, 0.1, Double.NaN, 0.2, 0.6, 0.25, 1.5, 0.1, 3);
    Map<String, Object> opt = Map.of("#count", new double[] {7});
    Path f = tmp.resolve("c.bin");
    new Checkpoint("abc", new int[] {1, 1, 1}, 1, 7, new float[] {1, 2, 3, 4}, opt, List.of(r0, r1)).write(f);
    Checkpoint back = Checkpoint.read(f);
    assertThat(back.history()).containsExactly(r0, r1);
    assertThat(back.history().get(0).norms().values()).containsExactly(1.5, 0.75, 0.25, 3, 2,
        Double.POSITIVE_INFINITY);
    assertThat(back.history().get(1).norms()).isNull();
    byte[] valid = Files.readAllBytes(f);
    // the same bytes as version 2, checksum fixed: refused, not misread
    byte[] v2 = valid.clone();
    java.nio.ByteBuffer.wrap(v2).putInt(8, 2);
    fixCrc(v2);
    Files.write(f, v2);
    assertThatThrownBy(() -> Checkpoint.read(f)).hasMessage("checkpoint " + f + ": format version 2 at byte 8, "
        + "expected 3 (written by an earlier pathsgd, before version 3 added the norms of each epoch)");
    // record 0's norms flag (after its epoch and nine doubles) set to 2
    byte[] flag = valid.clone();
    int at = valid.length - 4 - (4 + 9 * 8 + 1) - (4 + 9 * 8 + 1 + 7 * 8) + 4 + 9 * 8;
    assertThat(flag[at]).isEqualTo((byte) 1);
    flag[at] = 2;
    fixCrc(flag);
    Files.write(f, flag);
    assertThatThrownBy(() -> Checkpoint.read(f)).hasMessageContaining("history record 0: norms flag 2, expected 0 "
        + "(none) or 1");
    // a negative norm
    byte[] neg = valid.clone();
    java.nio.ByteBuffer.wrap(neg).putDouble(at + 1, -1.5);
    fixCrc(neg);
    Files.write(f, neg);
    assertThatThrownBy(() -> Checkpoint.read(f)).hasMessageContaining("history record 0: path_norm_1 -1.5, "
        + "expected >= 0");
  }

  static void fixCrc(byte[] b) {
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(b, 0, b.length - 4);
    java.nio.ByteBuffer.wrap(b).putInt(b.length - 4, (int) crc.getValue());
  }
}
