package io.github.pathsgd.model;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * Model files have their own place: the module imports neither the sweep module nor anything above it (a program that
 * saves a model needs core, data, train and this module only), and the format's rules ({@code model.format}) know no
 * layer or network, only bytes, dtypes and tensors (pathsgd's names are {@code model}'s).
 */
class ModelLayeringTest {
  static final JavaClasses MODEL = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.github.pathsgd.model");

  @Test
  void theModuleImportsNothingAboveTrain() {
    assertThat(MODEL.stream().map(c -> c.getName())).contains(SafeTensors.class.getName(),
        "io.github.pathsgd.model.format.SafeTensorsFormat");
    noClasses().should().dependOnClassesThat().resideInAnyPackage("io.github.pathsgd.experiments..",
        "io.github.pathsgd.report..", "io.github.pathsgd.bench..", "io.github.pathsgd.cli..",
        "io.github.pathsgd.spark..").check(MODEL);
  }

  @Test
  void theFormatNamesNoLayerOrNetwork() {
    noClasses().that().resideInAPackage("io.github.pathsgd.model.format..").should().dependOnClassesThat()
        .resideInAnyPackage("io.github.pathsgd.core.nn..", "io.github.pathsgd.core.geometry..",
            "io.github.pathsgd.model").check(MODEL);
  }

  @Test
  void theExperimentsModuleIsNotOnThisModulesClassPath() {
    assertThat(getClass().getClassLoader().getResource("io/github/pathsgd/experiments/config/Components.class"))
        .as("the sweep module's classes on the model module's test class path").isNull();
  }
}
