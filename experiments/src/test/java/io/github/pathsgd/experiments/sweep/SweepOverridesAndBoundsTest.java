package io.github.pathsgd.experiments.sweep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.experiments.config.ConfigException;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 23, items 2 and 6 at the sweep level, on sweep files the test writes (as {@code experiments show compare >
 * f.yaml} does): a top-level {@code --set} reaches every scale, a small scale's size does not vanish with another data
 * set, and a plan past the bound is refused by its count before anything is expanded.
 */
class SweepOverridesAndBoundsTest {
  @TempDir Path tmp;

  private String file(String name, String text) throws IOException {
    return Files.writeString(tmp.resolve(name), text).toString();
  }

  private static List<String> datasets(List<SweepRun> runs) {
    return runs.stream().map(r -> r.config().dataset()).distinct().toList();
  }

  @Test
  void aTopLevelGridSetReachesTheQuickScaleThatListsItsOwnDatasets() throws IOException {
    String f = file("f.yaml", SweepSpec.presetText("compare"));
    List<String> sets = List.of("grid.dataset=[fashion-mnist]", "base.per_class_train=800");
    SweepSpec s = SweepSpec.load(f, sets);
    List<SweepRun> quick = s.expand("quick", 1);
    assertThat(datasets(quick)).containsExactly("fashion-mnist");
    assertThat(quick).hasSize(48).allSatisfy(r -> assertThat(r.config().perClassTrain()).isEqualTo(800));
    assertThat(s.datasets("quick")).containsExactly("fashion-mnist");
    assertThat(datasets(s.expand("smoke", 1))).containsExactly("fashion-mnist");
    assertThat(datasets(s.expand("medium", 1))).containsExactly("fashion-mnist");
    s.checkOverrides(SweepSpec.load(f, List.of()), sets, "quick"); // sized: accepted
    // the scale's own key is still the way to change one scale alone
    SweepSpec one = SweepSpec.load(f, List.of("scales.quick.grid.dataset=[mnist]"));
    assertThat(one.datasets("quick")).containsExactly("mnist");
    assertThat(one.datasets("medium")).containsExactly("mnist", "cifar10");
  }

  @Test
  void aTopLevelBaseSetWinsOverEveryScalesBaseGridAndPerNameOverrides() throws IOException {
    String f = file("r.yaml", SweepSpec.presetText("rescaling"));
    SweepSpec s = SweepSpec.load(f, List.of("base.epochs=2", "base.lr=0.5", "base.dataset=MNIST"));
    for (String sc : List.of("smoke", "quick", "medium", "paper")) {
      assertThat(s.expand(sc, 1)).as(sc).allSatisfy(r -> {
        assertThat(r.config().epochs()).isEqualTo(2);
        assertThat(r.config().lr()).isEqualTo(0.5); // quick's optimizer_overrides.path-sgd.lr no longer shadows it
        assertThat(r.config().dataset()).isEqualTo("mnist");
      });
    }
    // a later scale key still changes its scale alone
    SweepSpec t = SweepSpec.load(f, List.of("base.epochs=2", "scales.quick.base.epochs=4"));
    assertThat(t.expand("quick", 1)).allSatisfy(r -> assertThat(r.config().epochs()).isEqualTo(4));
    assertThat(t.expand("smoke", 1)).allSatisfy(r -> assertThat(r.config().epochs()).isEqualTo(2));
  }

  @Test
  void aSmallScaleRefusesADatasetFromSetThatNothingSizes() throws IOException {
    String f = file("f.yaml", SweepSpec.presetText("compare"));
    List<String> sets = List.of("grid.dataset=[fashion-mnist]");
    SweepSpec s = SweepSpec.load(f, sets);
    SweepSpec original = SweepSpec.load(f, List.of());
    assertThatThrownBy(() -> s.checkOverrides(original, sets, "quick")).isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("per_class_train: scale quick of compare is sized for mnist-sample; with the data "
            + "set fashion-mnist from --set nothing limits its training set");
    // smoke sets per_class_train itself; medium and paper train on whole data sets by design
    s.checkOverrides(original, sets, "smoke");
    s.checkOverrides(original, sets, "paper");
    // the size preset sizes its data sets per name: a new name needs its own limit
    String g = file("g.yaml", SweepSpec.presetText("size"));
    List<String> sz = List.of("grid.dataset=[mnist-sample, fashion-mnist]");
    assertThatThrownBy(() -> SweepSpec.load(g, sz).checkOverrides(SweepSpec.load(g, List.of()), sz, "quick"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("with the data set fashion-mnist from --set");
    List<String> sized = List.of("grid.dataset=[mnist-sample, fashion-mnist]",
        "dataset_overrides.fashion-mnist.downsample=10", "dataset_overrides.fashion-mnist.per_class_train=200",
        "dataset_overrides.fashion-mnist.validation_size=1000");
    SweepSpec ok = SweepSpec.load(g, sized);
    ok.checkOverrides(SweepSpec.load(g, List.of()), sized, "quick");
    assertThat(ok.expand("quick", 1)).allSatisfy(r -> assertThat(r.config().perClassTrain()).isEqualTo(200));
  }

  @Test
  void anLrSetUnderAStepSizeSelectionIsRefusedByName() {
    List<String> sets = List.of("base.lr=0.3");
    SweepSpec s = SweepSpec.load("compare", sets);
    assertThatThrownBy(() -> s.checkOverrides(SweepSpec.load("compare"), sets, "quick"))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("base.lr: --set base.lr would not reach any run "
            + "at scale quick: the step-size selection (step_size) sets each run's lr");
  }

  @Test
  void datasetOverridesApplyToABuiltInNameInCapitals() {
    SweepSpec s = SweepSpec.load("size", List.of("grid.dataset=[MNIST-Sample]"));
    assertThat(s.expand("quick", 1)).allSatisfy(r -> {
      assertThat(r.config().dataset()).isEqualTo("mnist-sample");
      assertThat(r.config().perClassTrain()).isEqualTo(200);
      assertThat(r.config().downsample()).isEqualTo(10);
    });
    assertThat(s.expand("quick", 1)).extracting(SweepRun::runId).containsExactlyElementsOf(
        SweepSpec.load("size", List.of("grid.dataset=[mnist-sample]")).expand("quick", 1).stream()
            .map(SweepRun::runId).toList());
  }

  /** 200 x 200 x 200 grid values in a 5 kB file: 8,000,000 runs, refused by count before one config is built. */
  @Test
  void aGridOfMillionsOfRunsIsRefusedByItsCount() throws IOException {
    String l = IntStream.rangeClosed(1, 200).mapToObj(Integer::toString).collect(Collectors.joining(", ", "[", "]"));
    String f = file("bomb.yaml", """
        name: bomb
        figure: compare
        base: {hidden: [2]}
        grid:
          seed: %s
          epochs: %s
          batch_size: %s
        scales:
          smoke: {description: s}
          quick: {description: q}
          paper: {description: p}
        """.formatted(l, l, l));
    assertThat(Files.size(Path.of(f))).isLessThan(5_000);
    assertThatThrownBy(() -> SweepSpec.load(f, List.of())).isInstanceOf(ConfigException.class)
        .hasMessage("max_runs: 8000000 runs planned by " + f + " at scale smoke (8000000 grid points x 1 seed), more "
            + "than the bound of 10000 runs; expected at most 10000 (raise the bound with --max-runs N, or max_runs: "
            + "N in the sweep file)");
  }

  @Test
  void theBoundCountsSeedsAndStepSizesAndCanBeRaised() throws IOException {
    String f = file("six.yaml", """
        name: six
        figure: compare
        base: {hidden: [2], epochs: 1}
        grid: {seed: [1, 2, 3, 4, 5, 6]}
        scales:
          smoke: {description: s}
          quick: {description: q}
          paper: {description: p}
        """);
    assertThatThrownBy(() -> SweepSpec.load(f, List.of("max_runs=5"))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("6 runs planned by").hasMessageContaining("more than the bound of 5 runs");
    SweepSpec s = SweepSpec.load(f, List.of("max_runs=6"));
    assertThat(s.expand("quick", 1)).hasSize(6);
    assertThatThrownBy(() -> s.expand("quick", 2)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("12 runs planned by sweep six at scale quick (6 grid points x 2 seeds)");
    // --seeds 2147483647 on a preset: refused by count, at once
    SweepSpec c = SweepSpec.load("compare");
    assertThat(c.plannedRuns("quick", 1)).isEqualTo(60); // 12 groups x 4 step sizes + 12 retraining runs
    assertThatThrownBy(() -> c.expand("quick", Integer.MAX_VALUE)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("25769803812 runs planned by sweep compare at scale quick (12 grid points x (4 step "
            + "sizes + 2147483647 seeds)), more than the bound of 10000 runs");
    assertThatThrownBy(() -> SweepSpec.load(f, List.of("max_runs=0"))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("max_runs: expected a positive number of runs");
  }

  @Test
  void anUnknownYamlTagInASweepOrASetValueIsRefused() throws IOException {
    String f = file("t.yaml", SweepSpec.presetText("rescaling").replace("lr: 0.01", "lr: !foo 0.01"));
    assertThatThrownBy(() -> SweepSpec.load(f, List.of())).isInstanceOf(ConfigException.class)
        .hasMessageContaining("unknown YAML tag '!foo'");
    assertThatThrownBy(() -> SweepSpec.load(f, List.of("base.epochs=2"))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("unknown YAML tag '!foo'");
    assertThatThrownBy(() -> SweepSpec.load("rescaling", List.of("base.lr=!foo 0.1")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("unknown YAML tag '!foo'");
  }
}
