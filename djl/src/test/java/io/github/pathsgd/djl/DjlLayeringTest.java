package io.github.pathsgd.djl;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The djl module sits on top of model (like spark beside cli): nothing of pathsgd imports it, so DJL stays its own
 * dependency; it imports none of the sweep, report, bench or cli modules; and within it one class, {@link
 * PathsgdGraph}, calls pathsgd's core and model modules, so a change of core's network description touches one file.
 * The rest of the layering is cli's {@code ArchitectureTest} and core's {@code LayeringTest}.
 */
class DjlLayeringTest {
  static final JavaClasses ALL = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("io.github.pathsgd");

  @Test
  void nothingElseImportsDjlAndDjlImportsNothingAboveModel() {
    assertThat(ALL.stream().anyMatch(c -> c.getPackageName().startsWith("io.github.pathsgd.core"))).isTrue();
    noClasses().that().resideOutsideOfPackage("io.github.pathsgd.djl..").should().dependOnClassesThat()
        .resideInAPackage("io.github.pathsgd.djl..").check(ALL);
    noClasses().that().resideInAPackage("io.github.pathsgd.djl..").should().dependOnClassesThat()
        .resideInAnyPackage("io.github.pathsgd.experiments..", "io.github.pathsgd.report..",
            "io.github.pathsgd.bench..", "io.github.pathsgd.cli..", "io.github.pathsgd.spark..").check(ALL);
  }

  @Test
  void onlyTheAdapterCallsPathsgdsCoreAndModel() {
    noClasses().that().resideInAPackage("io.github.pathsgd.djl..").and()
        .haveNameNotMatching("io\\.github\\.pathsgd\\.djl\\.PathsgdGraph(\\$.*)?").should().dependOnClassesThat()
        .resideInAnyPackage("io.github.pathsgd.core..", "io.github.pathsgd.model..", "io.github.pathsgd.train..",
            "io.github.pathsgd.data..").check(ALL);
  }

  @Test
  void noPackageCycles() {
    slices().matching("io.github.pathsgd.(**)").should().beFreeOfCycles().check(ALL);
  }
}
