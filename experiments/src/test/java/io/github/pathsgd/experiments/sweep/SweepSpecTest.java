package io.github.pathsgd.experiments.sweep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.experiments.config.ConfigException;
import io.github.pathsgd.experiments.sweep.SweepSpec.SweepRun;
import java.util.List;
import org.junit.jupiter.api.Test;

class SweepSpecTest {
  static final String MINI = """
      name: mini
      description: test
      figure: compare
      base: {hidden: [3], epochs: 1, seed: 7}
      grid:
        optimizer: [sgd, path-sgd]
        init: [balanced, unbalanced]
      scales:
        smoke: {description: s, base: {epochs: 2}}
        quick: {description: q, grid: {optimizer: [adagrad]}}
        paper: {description: p}
      """;

  @Test
  void expansionIsCartesianInKeyOrderWithSeedsInnermost() {
    SweepSpec s = SweepSpec.parse(MINI, "mini");
    List<SweepRun> runs = s.expand("smoke", 2);
    assertThat(runs).hasSize(8);
    assertThat(runs).extracting(r -> r.config().optimizer() + "/" + r.config().init() + "/" + r.config().seed())
        .containsExactly("sgd/balanced/7", "sgd/balanced/8", "sgd/unbalanced/7", "sgd/unbalanced/8",
            "path-sgd/balanced/7", "path-sgd/balanced/8", "path-sgd/unbalanced/7", "path-sgd/unbalanced/8");
    assertThat(runs).extracting(SweepRun::index).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
    assertThat(runs).allSatisfy(r -> assertThat(r.config().epochs()).isEqualTo(2));
    // deterministic: same ids on a second expansion, and all distinct
    assertThat(s.expand("smoke", 2)).extracting(SweepRun::runId)
        .containsExactlyElementsOf(runs.stream().map(SweepRun::runId).toList());
    assertThat(runs.stream().map(SweepRun::runId).distinct()).hasSize(8);
    // a scale's grid replaces the key's list
    assertThat(s.expand("quick", 1)).extracting(r -> r.config().optimizer()).containsOnly("adagrad").hasSize(2);
  }

  @Test
  void optimizerOverridesApplyPerOptimizerAndPerScale() {
    String spec = MINI.replace("scales:\n", "optimizer_overrides:\n  path-sgd: {lr: 0.002}\nscales:\n")
        .replace("{description: p}", "{description: p, optimizer_overrides: {sgd: {momentum: 0.5}}}");
    SweepSpec s = SweepSpec.parse(spec, "mini");
    assertThat(s.expand("smoke", 1)).allSatisfy(r -> assertThat(r.config().lr())
        .isEqualTo(r.config().optimizer().equals("path-sgd") ? 0.002 : 0.05));
    assertThat(s.expand("paper", 1)).allSatisfy(r -> assertThat(r.config().momentum())
        .isEqualTo(r.config().optimizer().equals("sgd") ? 0.5 : 0.0));
    assertThatThrownBy(() -> SweepSpec.parse(spec.replace("{lr: 0.002}", "{learning_rate: 0.002}"), "m"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("learning_rate")
        .hasMessageContaining("optimizer_overrides");
  }

  @Test
  void unknownKeysAreRejectedByName() {
    assertThatThrownBy(() -> SweepSpec.parse(MINI.replace("figure: compare", "figure: compare\nbogus: 1"), "m"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("bogus");
    assertThatThrownBy(() -> SweepSpec.parse(MINI.replace("epochs: 1,", "epoks: 1,"), "m"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("epoks");
    assertThatThrownBy(() -> SweepSpec.parse(MINI.replace("init: [", "inits: ["), "m"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("inits");
    assertThatThrownBy(() -> SweepSpec.parse(MINI.replace("{description: p}", "{description: p, gird: {}}"), "m"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("gird");
    assertThatThrownBy(() -> SweepSpec.parse(MINI.replace("[sgd, path-sgd]", "[sgd, adam]"), "m"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("optimizer");
  }

  @Test
  void bundledPresetsLoadAtEveryScale() {
    for (String name : SweepSpec.PRESETS) {
      SweepSpec s = SweepSpec.load(name);
      assertThat(s.scales().keySet()).as(name).containsAll(SweepSpec.REQUIRED_SCALES);
      for (String sc : s.scales().keySet()) { // medium is optional (conv has none)
        assertThat(s.expand(sc, 1)).as(name + " " + sc).isNotEmpty();
      }
    }
    SweepSpec size = SweepSpec.load("size");
    List<SweepRun> paper = size.expand("paper", 1);
    assertThat(paper).hasSize(22);
    assertThat(paper.get(11).config().dataset()).isEqualTo("cifar10");
    assertThat(paper.get(11).config().grayscale()).isTrue();
    assertThat(paper.get(11).config().downsample()).isEqualTo(10);
    assertThat(paper.get(21).config().hidden()).containsExactly(4096);
    SweepSpec cmp = SweepSpec.load("compare");
    List<SweepRun> sel = cmp.expand("paper", 3);
    assertThat(sel).hasSize(4 * 3 * 2 * 2 * 11);
    assertThat(sel).allSatisfy(r -> assertThat(r.phase()).isEqualTo(SweepRun.SELECT));
    assertThat(sel.get(0).config().lr()).isEqualTo(1.0);
    assertThat(sel.get(3).config().lr()).isEqualTo(1e-3);
    assertThat(SweepSpec.load("rescaling").expand("paper", 1)).extracting(r -> r.config().hidden())
        .containsOnly(List.of(4000, 4000));
    assertThatThrownBy(() -> SweepSpec.load("nope")).hasMessageContaining("nope");
    assertThatThrownBy(() -> size.expand("huge", 1)).hasMessageContaining("huge");
  }

  @Test
  void finalsDropTheValidationSplitAndRepeatSeeds() {
    SweepSpec cmp = SweepSpec.load("compare");
    List<SweepRun> sel = cmp.expand("smoke", 1);
    List<SweepRun> fin = SweepPlan.finals(List.of(sel.get(0)), 2, sel.size());
    assertThat(fin).hasSize(2);
    assertThat(fin.get(0).index()).isEqualTo(sel.size());
    assertThat(fin).allSatisfy(r -> {
      assertThat(r.config().validationSize()).isZero();
      assertThat(r.phase()).isEqualTo(SweepRun.FINAL);
      assertThat(r.config().lr()).isEqualTo(sel.get(0).config().lr());
    });
  }

  @Test
  void setOverridesAnyKeyOfPresetsAndFiles(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    SweepSpec r = SweepSpec.load("rescaling", List.of("grid.dataset=[fashion-mnist]",
        "scales.quick.base.hidden=[256,256]", "scales.quick.base.epochs=1", "base.lr=0.5"));
    List<SweepRun> quick = r.expand("quick", 1);
    assertThat(quick).hasSize(4).allSatisfy(x -> {
      assertThat(x.config().dataset()).isEqualTo("fashion-mnist");
      assertThat(x.config().hidden()).containsExactly(256, 256);
      assertThat(x.config().epochs()).isEqualTo(1);
    });
    // a top-level base.lr is every run's lr: at paper scale, and at quick over Path-SGD's optimizer override there
    assertThat(r.expand("paper", 1)).allSatisfy(x -> assertThat(x.config().lr()).isEqualTo(0.5));
    assertThat(quick).extracting(x -> x.config().optimizer() + " " + x.config().lr())
        .contains("sgd 0.5", "path-sgd 0.5");
    // a scalar for a grid key is a list of one; a file of the preset's text is the same sweep
    java.nio.file.Path f = dir.resolve("r.yaml");
    java.nio.file.Files.writeString(f, SweepSpec.presetText("rescaling"));
    SweepSpec fromFile = SweepSpec.load(f.toString(), List.of("grid.dataset=fashion-mnist",
        "scales.quick.base.hidden=[256,256]", "scales.quick.base.epochs=1", "base.lr=0.5"));
    assertThat(fromFile.expand("quick", 1)).extracting(SweepRun::runId)
        .containsExactlyElementsOf(quick.stream().map(SweepRun::runId).toList());
    assertThat(SweepSpec.load(f.toString(), List.of()).expand("quick", 1)).extracting(SweepRun::runId)
        .containsExactlyElementsOf(SweepSpec.load("rescaling").expand("quick", 1).stream().map(SweepRun::runId)
            .toList());
  }

  @Test
  void setRefusesUnknownKeysByName() {
    assertThatThrownBy(() -> SweepSpec.load("rescaling", List.of("base.epoks=3")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("epoks").hasMessageContaining("epochs");
    assertThatThrownBy(() -> SweepSpec.load("rescaling", List.of("grids.dataset=[x]")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("grids").hasMessageContaining("optimizer_overrides");
    assertThatThrownBy(() -> SweepSpec.load("rescaling", List.of("scales.huge.base.epochs=1")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("huge").hasMessageContaining("quick");
    assertThatThrownBy(() -> SweepSpec.load("rescaling", List.of("base.epochs")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("KEY=VALUE");
    assertThatThrownBy(() -> SweepSpec.load("rescaling", List.of("base.momentum=fast")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("momentum").hasMessageContaining("fast");
    assertThatThrownBy(() -> SweepSpec.load("nosuch", List.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("nosuch").hasMessageContaining("rescaling");
  }
}
