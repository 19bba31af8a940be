package io.github.pathsgd.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class PreprocessingTest {
  private static Dataset ramp(int n, int c, int h, int w) {
    float[] x = new float[n * c * h * w];
    for (int i = 0; i < x.length; i++) {
      x[i] = (i % 251) / 250f;
    }
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = i % 3;
    }
    return new Dataset("r/train", x, y, n, c, h, w, 3);
  }

  @Test
  void areaWeightsRowsSumToOneAndIntegerRatiosAreBlockMeans() {
    for (int out : new int[] {7, 10, 14, 13}) {
      double[][] w = Resampling.areaWeights(28, out);
      for (double[] row : w) {
        double s = 0;
        for (double v : row) {
          s += v;
        }
        assertThat(s).isCloseTo(1.0, within(1e-12));
      }
    }
    double[][] w = Resampling.areaWeights(28, 14);
    assertThat(w[3][6]).isEqualTo(0.5);
    assertThat(w[3][7]).isEqualTo(0.5);
    assertThat(w[3][8]).isEqualTo(0.0);
    double[][] t = Resampling.areaWeights(28, 10); // cell = 2.8 pixels: output 1 covers [2.8, 5.6)
    assertThat(t[1][2]).isCloseTo(0.2 / 2.8, within(1e-12));
    assertThat(t[1][3]).isCloseTo(1 / 2.8, within(1e-12));
    assertThat(t[1][5]).isCloseTo(0.6 / 2.8, within(1e-12));
  }

  @Test
  void downsamplePreservesMeanAndDoesBlockAverages() {
    Dataset d = ramp(2, 3, 28, 28);
    Dataset s = Resampling.downsample(d, 10);
    assertThat(s.height()).isEqualTo(10);
    assertThat(s.channels()).isEqualTo(3);
    double[] m0 = Resampling.channelStats(d)[0];
    double[] m1 = Resampling.channelStats(s)[0];
    for (int c = 0; c < 3; c++) {
      assertThat(m1[c]).isCloseTo(m0[c], within(1e-5));
    }
    Dataset h = Resampling.downsample(d, 14);
    float expect = (d.x()[0] + d.x()[1] + d.x()[28] + d.x()[29]) / 4;
    assertThat(h.x()[0]).isCloseTo(expect, within(1e-6f));
  }

  @Test
  void grayscaleUsesBt601() {
    float[] x = new float[3 * 4];
    for (int j = 0; j < 4; j++) {
      x[j] = 1f; // red
      x[8 + j] = 0.5f; // blue
    }
    Dataset g = Resampling.grayscale(new Dataset("g", x, new int[] {0}, 1, 3, 2, 2, 1));
    assertThat(g.channels()).isEqualTo(1);
    assertThat(g.x()[2]).isCloseTo(0.299f + 0.057f, within(1e-6f));
  }

  @Test
  void standardizeUsesTrainStatsOnly() {
    Preprocessing p = new Preprocessing(true, 0, false, 0);
    DataSplits s = Datasets.load(new DataRequest("mnist-sample", null, 500, 7L, p));
    double[][] st = Resampling.channelStats(s.train());
    assertThat(st[0][0]).isCloseTo(0, within(1e-4));
    assertThat(st[1][0]).isCloseTo(1, within(1e-4));
    assertThat(Resampling.channelStats(s.test())[0][0]).isNotCloseTo(0, within(1e-4));
    assertThat(s.provenance()).containsKey("standardize.mean");
  }

  @Test
  void perClassIsBalancedSeededAndInFileOrder() {
    Preprocessing p = new Preprocessing(false, 10, true, 50);
    DataSplits s = Datasets.load(new DataRequest("mnist-sample", null, 1000, 3L, p));
    assertThat(s.train().classHistogram()).containsOnly(50);
    assertThat(s.train().height()).isEqualTo(10);
    assertThat(s.validation().height()).isEqualTo(10);
    assertThat(s.test().dim()).isEqualTo(100);
    assertThat(s.validation().n()).isEqualTo(1000);
    DataSplits again = Datasets.load(new DataRequest("mnist-sample", null, 1000, 3L, p));
    assertThat(again.train().x()).isEqualTo(s.train().x());
    assertThat(s.provenance().get("preprocessing")).contains("perClassTrain=50").contains("downsample=10");
  }
}
