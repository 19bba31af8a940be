package io.github.pathsgd.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The summary line of {@code pathsgd-spark experiments run} names the diverged count (issue 29 item 7). */
class SparkSummaryTest {
  @Test
  void divergedRunsAreCountedFromRunsJsonl(@TempDir Path tmp) throws Exception {
    assertThat(SparkMain.diverged(tmp)).isZero(); // no runs.jsonl yet
    Files.writeString(tmp.resolve("runs.jsonl"), "{\"run_id\":\"a\",\"status\":\"completed\"}\n"
        + "{\"run_id\":\"b\",\"status\":\"diverged\"}\n\n{\"run_id\":\"c\",\"status\":\"diverged\"}\n"
        + "{\"run_id\":\"d\",\"status\":\"missing-data\"}\n");
    assertThat(SparkMain.diverged(tmp)).isEqualTo(2);
  }
}
