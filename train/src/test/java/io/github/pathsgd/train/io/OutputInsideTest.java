package io.github.pathsgd.train.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files pathsgd creates inside an output folder are never written through a symbolic link that leads out of it
 * ({@link OutputTarget#checkInside}, {@link AtomicFiles#writeInside}): real links made here, the sibling file or
 * folder they point to left untouched.
 */
class OutputInsideTest {
  @Test
  void aFileLinkThatLeavesTheFolderIsRefusedAndItsTargetUntouched(@TempDir Path tmp) throws Exception {
    Path out = Files.createDirectories(tmp.resolve("out"));
    Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
    Path f = Files.writeString(elsewhere.resolve("f"), "precious");
    Path link = Files.createSymbolicLink(out.resolve("summary.json"), Path.of("../elsewhere/f"));
    assertThatThrownBy(() -> AtomicFiles.writeStringInside(out, link, "{}"))
        .isInstanceOf(OutputTarget.Refused.class)
        .hasMessage("cannot write " + link + ": it is a symbolic link to " + f.toRealPath() + ", outside the output "
            + "folder " + out + "; pathsgd writes its own files only inside the output folder (remove the link)");
    assertThat(f).hasContent("precious");
    assertThat(Files.readSymbolicLink(link)).isEqualTo(Path.of("../elsewhere/f"));
    try (var s = Files.list(elsewhere)) {
      assertThat(s.toList()).containsExactly(f); // no temporary file left there either
    }
  }

  @Test
  void aFolderLinkThatLeavesTheFolderIsRefusedForEveryFileBelowIt(@TempDir Path tmp) throws Exception {
    Path out = Files.createDirectories(tmp.resolve("out").resolve("runs"));
    out = out.getParent();
    Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
    Path run = Files.createSymbolicLink(out.resolve("runs").resolve("0123456789ab"), Path.of("../../elsewhere"));
    Path target = run.resolve("config.json");
    Path o = out;
    assertThatThrownBy(() -> AtomicFiles.writeStringInside(o, target, "{}"))
        .isInstanceOf(OutputTarget.Refused.class)
        .hasMessage("cannot write " + target + ": " + run + " is a symbolic link to " + elsewhere.toRealPath()
            + ", outside the output folder " + out + "; pathsgd writes its own files only inside the output folder "
            + "(remove the link)");
    try (var s = Files.list(elsewhere)) {
      assertThat(s.toList()).isEmpty();
    }
    // a link to runs/ itself that leaves the folder is refused the same way
    Path out2 = Files.createDirectories(tmp.resolve("out2"));
    Path runs2 = Files.createSymbolicLink(out2.resolve("runs"), elsewhere);
    assertThatThrownBy(() -> OutputTarget.checkInside(out2, runs2.resolve("abc").resolve("metrics.csv")))
        .isInstanceOf(OutputTarget.Refused.class)
        .hasMessageContaining(runs2 + " is a symbolic link to " + elsewhere.toRealPath() + ", outside the output");
  }

  @Test
  void aDanglingLinkOutOfTheFolderIsRefusedAndNothingIsCreatedThere(@TempDir Path tmp) throws Exception {
    Path out = Files.createDirectories(tmp.resolve("out"));
    Files.createDirectories(tmp.resolve("elsewhere"));
    Path link = Files.createSymbolicLink(out.resolve("metrics.csv"), tmp.resolve("elsewhere").resolve("new.csv"));
    assertThatThrownBy(() -> AtomicFiles.writeStringInside(out, link, "x"))
        .isInstanceOf(OutputTarget.Refused.class)
        .hasMessageContaining("it is a symbolic link to " + tmp.toRealPath().resolve("elsewhere").resolve("new.csv")
            + ", outside the output folder " + out);
    assertThat(tmp.resolve("elsewhere").resolve("new.csv")).doesNotExist();
  }

  @Test
  void linksThatStayInsideAndAnOutputFolderThatIsItselfALinkAreWritten(@TempDir Path tmp) throws Exception {
    Path real = Files.createDirectories(tmp.resolve("big-disk").resolve("out"));
    Path out = Files.createSymbolicLink(tmp.resolve("out"), real); // --out named through a link: the user's choice
    Files.writeString(Files.createDirectories(out.resolve("keep")).resolve("summary.json"), "old");
    Files.writeString(out.resolve("keep").resolve("t.csv"), "old");
    Path inner = Files.createSymbolicLink(out.resolve("summary.json"), Path.of("keep/summary.json"));
    AtomicFiles.writeStringInside(out, inner, "{\"ok\":1}");
    assertThat(real.resolve("keep").resolve("summary.json")).hasContent("{\"ok\":1}");
    assertThat(Files.isSymbolicLink(inner)).isTrue();
    AtomicFiles.writeStringInside(out, out.resolve("metrics.csv"), "a\n");
    assertThat(real.resolve("metrics.csv")).hasContent("a\n");
    // a link that goes out and comes back in is inside as well
    Path back = Files.createSymbolicLink(out.resolve("timings.csv"), Path.of("../out/keep/t.csv"));
    AtomicFiles.writeStringInside(out, back, "t\n");
    assertThat(real.resolve("keep").resolve("t.csv")).hasContent("t\n");
  }
}
