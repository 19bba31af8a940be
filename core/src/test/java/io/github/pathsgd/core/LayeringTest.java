package io.github.pathsgd.core;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The packages of core import only downward: util and tensor at the bottom, then {@code nn → geometry → optim →
 * step}; no package cycles. Main classes only (tests may reach across layers).
 */
class LayeringTest {
  static final JavaClasses CORE = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("io.github.pathsgd.core");

  @Test
  void noPackageCycles() {
    slices().matching("io.github.pathsgd.core.(*)..").should().beFreeOfCycles().check(CORE);
  }

  @Test
  void importsOnlyDownward() {
    layeredArchitecture().consideringOnlyDependenciesInLayers()
        .layer("util").definedBy("io.github.pathsgd.core.util..")
        .layer("tensor").definedBy("io.github.pathsgd.core.tensor..")
        .layer("nn").definedBy("io.github.pathsgd.core.nn..")
        .layer("geometry").definedBy("io.github.pathsgd.core.geometry..")
        .layer("optim").definedBy("io.github.pathsgd.core.optim..")
        .layer("step").definedBy("io.github.pathsgd.core.step..")
        .whereLayer("step").mayNotBeAccessedByAnyLayer()
        .whereLayer("optim").mayOnlyBeAccessedByLayers("step")
        .whereLayer("geometry").mayOnlyBeAccessedByLayers("optim", "step")
        .whereLayer("nn").mayOnlyBeAccessedByLayers("geometry", "optim", "step")
        .whereLayer("tensor").mayOnlyBeAccessedByLayers("nn", "geometry", "optim", "step")
        .whereLayer("util").mayOnlyBeAccessedByLayers("tensor", "nn", "geometry", "optim", "step")
        .check(CORE);
  }
}
