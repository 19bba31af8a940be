package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's library program (examples/library-demo, a project that knows pathsgd only by its Maven coordinates) is
 * compiled and run against the artifacts {@code mvn install} put into a local repository in this same build:
 * {@code mvn install -Dmaven.repo.local=DIR -Dpathsgd.libraryTest.repo=DIR}. Without that property (or without
 * {@code mvn} on the PATH) it is skipped, saying so: it never reads or writes the user's ~/.m2.
 */
class LibraryDemoTest {
  @Test
  void theReadmesProgramCompilesAndTrainsAgainstTheInstalledArtifacts(@TempDir Path tmp) throws Exception {
    String repo = System.getProperty("pathsgd.libraryTest.repo", "");
    String version = System.getProperty("pathsgd.version", "0.1.0");
    Assumptions.assumeTrue(!repo.isBlank(), "library test skipped: run 'mvn install -Dmaven.repo.local=DIR "
        + "-Dpathsgd.libraryTest.repo=DIR' to compile and run examples/library-demo against the installed artifacts");
    Assumptions.assumeTrue(onPath("mvn"), "library test skipped: mvn is not on the PATH");
    Path core = Path.of(repo, "io/github/pathsgd/pathsgd-core", version);
    assertThat(core.resolve("pathsgd-core-" + version + ".jar")).as("installed before cli's tests").exists();
    assertThat(core.resolve("pathsgd-core-" + version + "-sources.jar")).exists();
    assertThat(core.resolve("pathsgd-core-" + version + "-javadoc.jar")).exists();
    Path demo = tmp.resolve("library-demo");
    Path src = Path.of("..", "examples", "library-demo").toAbsolutePath().normalize();
    try (Stream<Path> s = Files.walk(src)) {
      for (Path p : s.filter(p -> !src.relativize(p).startsWith("target")).toList()) {
        Path to = demo.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
        } else {
          Files.copy(p, to);
        }
      }
    }
    String mvn = run(demo, List.of("mvn", "-B", "-ntp", "-q", "-Dmaven.repo.local=" + repo, "-Dpathsgd.version="
        + version, "compile", "dependency:build-classpath", "-Dmdep.outputFile=target/classpath.txt"));
    String cp = Files.readString(demo.resolve("target/classpath.txt"), StandardCharsets.UTF_8).trim();
    assertThat(cp).as(mvn).contains(core.resolve("pathsgd-core-" + version + ".jar").toString());
    String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String out = run(demo, List.of(javaBin, "--add-modules", "jdk.incubator.vector", "-cp",
        demo.resolve("target/classes") + java.io.File.pathSeparator + cp, "demo.LibraryDemo"));
    // e.g. "path-sgd: batch loss 0.7565 at step 1, 0.0434 at step 300"; the program itself fails unless it halves
    assertThat(out).containsPattern("path-sgd: batch loss 0\\.\\d{4} at step 1, 0\\.0\\d{3} at step 300");
  }

  static boolean onPath(String exe) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      if (Files.isExecutable(Path.of(d, exe))) {
        return true;
      }
    }
    return false;
  }

  static String run(Path dir, List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(new ArrayList<>(cmd)).directory(dir.toFile()).redirectErrorStream(true).start();
    boolean done = p.waitFor(120, TimeUnit.SECONDS);
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!done) {
      p.destroyForcibly();
    }
    assertThat(done).as("%s finished in 120 s: %s", cmd.get(0), out).isTrue();
    assertThat(p.exitValue()).as("%s: %s", String.join(" ", cmd), out).isZero();
    return out;
  }
}
