package io.github.pathsgd.experiments.rundir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.data.DataSplits;
import io.github.pathsgd.experiments.config.Components;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.config.TrainConfig;
import io.github.pathsgd.train.TrainerTest;
import io.github.pathsgd.train.history.EpochRecord;
import io.github.pathsgd.train.listener.TrainingCancelled;
import io.github.pathsgd.train.listener.TrainingListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run killed mid-way and resumed writes the same metrics.csv, norms of the earlier epochs included. */
class ResumeWithNormsTest {
  static TrainConfig config() {
    Map<String, Object> m = new LinkedHashMap<>(Configs.toMap(TrainConfig.empty()));
    m.put("hidden", List.of(16, 16));
    m.put("epochs", 5);
    m.put("batch_size", 10);
    m.put("dropout", 0.5);
    m.put("momentum", 0.9);
    m.put("threads", 1);
    return Configs.fromMap(m, TrainConfig.class).resolve();
  }

  static final DataSplits DATA = new DataSplits(TrainerTest.blobs(300, 1), TrainerTest.blobs(60, 2),
      TrainerTest.blobs(90, 3), Map.of("source", "blobs"));

  /** metrics.csv without its wall-clock rows. */
  static List<String> withoutTimes(Path dir) throws Exception {
    return Files.readAllLines(dir.resolve("metrics.csv")).stream().filter(l -> !l.contains(",train,seconds,"))
        .toList();
  }

  @Test
  void killedAfterEpochThreeResumesToTheSameMetrics(@TempDir Path tmp) throws Exception {
    TrainConfig cfg = config();
    Path whole = tmp.resolve("whole");
    RunDirectory.run(cfg, Components.trainer(cfg, DATA), DATA, whole, TrainingListener.NONE, r -> {});
    Path dir = tmp.resolve("killed");
    // killed when epoch 3 is recorded: metrics.csv has epoch 3, the checkpoint holds epochs 0..2
    assertThatThrownBy(() -> RunDirectory.run(cfg, Components.trainer(cfg, DATA), DATA, dir, new TrainingListener() {
      @Override
      public void onEpoch(EpochRecord r) {
        if (r.epoch() == 3) {
          throw new TrainingCancelled("killed");
        }
      }
    }, r -> {})).isInstanceOf(TrainingCancelled.class);
    assertThat(dir.resolve("summary.json")).doesNotExist();
    assertThat(dir.resolve("checkpoint.bin")).exists();
    RunDirectory.run(cfg, Components.trainer(cfg, DATA), DATA, dir, TrainingListener.NONE, r -> {});
    List<String> expected = withoutTimes(whole);
    assertThat(withoutTimes(dir)).isEqualTo(expected);
    // six norms for each of the epochs 0..5
    assertThat(expected.stream().filter(l -> l.contains(",model,")).count()).isEqualTo(6 * 6);
    assertThat(expected).anyMatch(l -> l.matches("[0-9a-f]{12},0,model,spectral_norm_product,[0-9.E-]+"));
    assertThat(expected).anyMatch(l -> l.matches("[0-9a-f]{12},2,model,path_norm_inf,[0-9.E-]+"));
  }
}
