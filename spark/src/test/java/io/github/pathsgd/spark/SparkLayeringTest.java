package io.github.pathsgd.spark;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The spark module sits beside cli at the top: it uses experiments and below, nothing of the project imports it
 * (so the default jar never needs Spark), and it has no package cycles with the modules it uses. The rest of the
 * layering is checked by cli's {@code ArchitectureTest} and core's {@code LayeringTest}.
 */
class SparkLayeringTest {
  static final JavaClasses ALL = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("io.github.pathsgd");

  @Test
  void nothingElseImportsSparkAndSparkDoesNotImportTheCli() {
    noClasses().that().resideOutsideOfPackage("io.github.pathsgd.spark..").should().dependOnClassesThat()
        .resideInAPackage("io.github.pathsgd.spark..").check(ALL);
    noClasses().that().resideInAPackage("io.github.pathsgd.spark..").should().dependOnClassesThat()
        .resideInAnyPackage("io.github.pathsgd.cli..", "io.github.pathsgd.report..", "io.github.pathsgd.bench..")
        .check(ALL);
  }

  @Test
  void noPackageCycles() {
    slices().matching("io.github.pathsgd.(**)").should().beFreeOfCycles().check(ALL);
  }
}
