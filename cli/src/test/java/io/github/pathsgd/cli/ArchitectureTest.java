package io.github.pathsgd.cli;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The whole project's layering, checked on the compiled main classes of every module (this module's tests see them
 * all): no package imports another that imports it back, at any depth; and the modules import only downward, core ←
 * data ← train ← model ← experiments ← report, bench ← cli. Inside core, {@code core.LayeringTest} checks the order of
 * its packages (tensor → nn → geometry → optim → step).
 */
class ArchitectureTest {
  static final JavaClasses ALL = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .withImportOption(location -> !location.contains("jmh_generated"))
      .importPackages("io.github.pathsgd");

  @Test
  void everyModuleHasClassesHere() {
    for (String m : new String[] {"core", "data", "train", "model", "experiments", "report", "bench", "cli"}) {
      org.assertj.core.api.Assertions.assertThat(ALL.stream().anyMatch(c -> c.getPackageName().startsWith(
          "io.github.pathsgd." + m))).as("classes of module %s on the test classpath", m).isTrue();
    }
  }

  @Test
  void noPackageCyclesAnywhere() {
    slices().matching("io.github.pathsgd.(**)").should().beFreeOfCycles().check(ALL);
  }

  @Test
  void modulesImportOnlyDownward() {
    layeredArchitecture().consideringOnlyDependenciesInLayers()
        .layer("core").definedBy("io.github.pathsgd.core..")
        .layer("data").definedBy("io.github.pathsgd.data..")
        .layer("train").definedBy("io.github.pathsgd.train..")
        .layer("model").definedBy("io.github.pathsgd.model..")
        .layer("experiments").definedBy("io.github.pathsgd.experiments..")
        .layer("report").definedBy("io.github.pathsgd.report..")
        .layer("bench").definedBy("io.github.pathsgd.bench..")
        .layer("cli").definedBy("io.github.pathsgd.cli..")
        .whereLayer("cli").mayNotBeAccessedByAnyLayer()
        .whereLayer("report").mayOnlyBeAccessedByLayers("cli")
        .whereLayer("bench").mayOnlyBeAccessedByLayers("cli")
        .whereLayer("experiments").mayOnlyBeAccessedByLayers("report", "bench", "cli")
        .whereLayer("model").mayOnlyBeAccessedByLayers("experiments", "report", "bench", "cli")
        .whereLayer("train").mayOnlyBeAccessedByLayers("model", "experiments", "report", "bench", "cli")
        .whereLayer("data").mayOnlyBeAccessedByLayers("train", "model", "experiments", "report", "bench", "cli")
        .whereLayer("core").mayOnlyBeAccessedByLayers("data", "train", "model", "experiments", "report", "bench", "cli")
        .check(ALL);
  }
}
