package io.github.pathsgd.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The adding problem's registry names: {@code adding-T} is 1 x T x 2 with real targets, its test set the generator's
 * 1,000 sequences of seed 2, its training and validation splits a partition of the 10,000 of seed 1 with their own
 * targets; the provenance's baselines are the MSE of predicting 1 on each split.
 */
class AddingRegistryTest {
  @Test
  void addingTIsTheGeneratorsSequencesSplitWithTheirTargets() {
    DataSplits d = Datasets.load(new DataRequest("ADDING-50", null, 1000, 7, Preprocessing.NONE));
    SequenceDataset train = AddingProblem.generate("t", Datasets.ADDING_TRAIN, 50, Datasets.ADDING_TRAIN_SEED);
    SequenceDataset test = AddingProblem.generate("t", Datasets.ADDING_TEST, 50, Datasets.ADDING_TEST_SEED);
    Dataset te = d.test();
    assertThat(new int[] {te.channels(), te.height(), te.width(), te.numClasses(), te.n()})
        .containsExactly(1, 50, 2, 1, 1000);
    assertThat(te.regression()).isTrue();
    assertThat(java.util.Arrays.equals(te.x(), test.x())).isTrue();
    assertThat(java.util.Arrays.equals(te.targets(), test.targets())).isTrue();
    assertThat(d.train().n() + d.validation().n()).isEqualTo(Datasets.ADDING_TRAIN);
    assertThat(d.validation().n()).isEqualTo(1000);
    // every row of train and validation is one generated sequence with its own target, each used once
    Map<String, Integer> byRow = new HashMap<>();
    for (int i = 0; i < train.n(); i++) {
      byRow.put(java.util.Arrays.toString(java.util.Arrays.copyOfRange(train.x(), i * 100, (i + 1) * 100)), i);
    }
    java.util.Set<Integer> seen = new java.util.HashSet<>();
    for (Dataset part : new Dataset[] {d.train(), d.validation()}) {
      for (int i = 0; i < part.n(); i++) {
        Integer src = byRow.get(java.util.Arrays.toString(java.util.Arrays.copyOfRange(part.x(), i * 100,
            (i + 1) * 100)));
        assertThat(src).as(part.name() + " row " + i).isNotNull();
        assertThat(part.targets()[i]).isEqualTo(train.targets()[src]);
        assertThat(seen.add(src)).as("sequence " + src + " used once").isTrue();
      }
    }
    for (String split : new String[] {"train", "validation", "test"}) {
      Dataset s = split.equals("train") ? d.train() : split.equals("validation") ? d.validation() : d.test();
      double base = 0;
      for (float t : s.targets()) {
        base += (t - 1.0) * (t - 1.0);
      }
      base /= s.n();
      assertThat(Double.parseDouble(d.provenance().get("baseline_mse." + split))).isEqualTo(base);
      assertThat(base).as("near 1/6").isCloseTo(AddingProblem.BASELINE_MSE, within(0.03));
    }
    assertThat(d.provenance().get("generator")).contains("T=50").contains("seed 1").contains("seed 2");
  }

  @Test
  void badNamesAndDownloadsAreRefused() {
    assertThatThrownBy(() -> Datasets.load(DataRequest.of("adding-1", null))).isInstanceOf(DataException.class)
        .hasMessageContaining("adding-1").hasMessageContaining("2 <= T <= 10000");
    assertThatThrownBy(() -> Datasets.searchDirs("adding-100", null)).isInstanceOf(DataException.class)
        .hasMessageContaining("generated from a seed");
    assertThat(Datasets.variants()).contains("adding-100", "adding-400", "adding-750");
  }

  @Test
  void aRegressionSetRefusesTargetsThatDoNotFit() {
    assertThatThrownBy(() -> new Dataset("r", new float[4], new int[2], 2, 1, 2, 1, 1, new float[3]))
        .hasMessageContaining("3 regression targets for 2 rows");
    assertThatThrownBy(() -> new Dataset("r", new float[4], new int[2], 2, 1, 2, 1, 10, new float[2]))
        .hasMessageContaining("10 classes");
  }
}
