package io.github.pathsgd.train.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
}
