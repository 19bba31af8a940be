package io.github.pathsgd.experiments.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
    EpochRecord r = new EpochRecord(1, 0.5, 0.1, Double.NaN, 0.2, 0.6, 0.25, 1.5, 0.1, 3);
    Checkpoint c = new Checkpoint("abc", 1, new float[] {1, 2, 3}, opt, List.of(r));
    Path f = tmp.resolve("c.bin");
    c.write(f);
    Checkpoint back = Checkpoint.read(f);
    assertThat(back.configHash()).isEqualTo("abc");
    assertThat(back.epoch()).isEqualTo(1);
    assertThat(back.params()).containsExactly(1, 2, 3);
    assertThat((double[]) back.optState().get("#count")).containsExactly(7);
    assertThat((float[]) back.optState().get("0.momentum")).containsExactly(1.5f, -2f);
    assertThat(back.history()).containsExactly(r);
    // no temporary file is left behind
    try (var s = Files.list(tmp)) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactly("c.bin");
    }
  }

  @Test
  void truncatedOrForeignFilesAreRejectedWithTheirName(@TempDir Path tmp) throws IOException {
    Path f = tmp.resolve("c.bin");
    new Checkpoint("abc", 1, new float[] {1, 2, 3}, Map.of("#count", new double[] {1}), List.of()).write(f);
    byte[] all = Files.readAllBytes(f);
    Files.write(f, java.util.Arrays.copyOf(all, all.length - 5));
    assertThatThrownBy(() -> Checkpoint.read(f)).isInstanceOf(IOException.class).hasMessageContaining("c.bin")
        .hasMessageContaining("truncated");
    Files.writeString(f, "hello world, not a checkpoint");
    assertThatThrownBy(() -> Checkpoint.read(f)).hasMessageContaining("bad magic");
  }
}
