package io.github.pathsgd.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Mutated valid files: only {@link DataException} may escape; a successful read must be well-formed. */
class MutationPropertyTest {
  private static final byte[] IMAGES = TestFiles.idxImages(4, 28, 28);
  private static final byte[] LABELS = TestFiles.idxLabels(4, 10);
  private static final byte[] CIFAR = TestFiles.cifar(3, false, 0);
  private static final byte[] CIFAR100 = TestFiles.cifar(3, true, 0);
  private static final byte[] MAT = svhn();

  private static byte[] svhn() {
    try {
      var p = java.nio.file.Files.createTempFile("svhn", ".mat");
      TestFiles.writeSvhn(p, 2);
      byte[] b = java.nio.file.Files.readAllBytes(p);
      java.nio.file.Files.delete(p);
      return b;
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A mutation: kind 0 bit flip, 1 truncation, 2 header int overwrite, 3 byte overwrite; on raw or gzip. */
  record Mutation(int kind, int pos, int value, boolean gzipFirst, int target) {}

  @Provide
  Arbitrary<Mutation> mutations() {
    return Combinators.combine(Arbitraries.integers().between(0, 3), Arbitraries.integers().between(0, 1 << 20),
        Arbitraries.integers(), Arbitraries.of(true, false), Arbitraries.integers().between(0, 4))
        .as(Mutation::new);
  }

  static byte[] mutate(byte[] src, Mutation m) {
    byte[] b = m.gzipFirst() ? TestFiles.gzip(src) : src.clone();
    int pos = m.pos() % b.length;
    switch (m.kind()) {
      case 0 -> b[pos] ^= (byte) (1 << (m.value() & 7));
      case 1 -> b = java.util.Arrays.copyOf(b, pos);
      case 2 -> {
        // overwrite a header field (first 16 bytes) or a gzip/mat header field
        int at = (m.value() >>> 8) % Math.max(1, Math.min(b.length - 3, 128));
        if (b.length >= 4) {
          java.nio.ByteBuffer.wrap(b).putInt(Math.max(0, Math.min(at, b.length - 4)), m.value());
        }
      }
      default -> b[pos] = (byte) m.value();
    }
    return b;
  }

  @Property(tries = 6000)
  void onlyDataExceptionEscapes(@ForAll("mutations") Mutation m) {
    String suffix = m.gzipFirst() ? ".gz" : "";
    try {
      Dataset d;
      switch (m.target()) {
        case 0 -> d = IdxReader.parse(RawFile.of("img" + suffix, mutate(IMAGES, m)), RawFile.of("lab", LABELS), "m",
            10);
        case 1 -> d = IdxReader.parse(RawFile.of("img", IMAGES), RawFile.of("lab" + suffix, mutate(LABELS, m)), "m",
            10);
        case 2 -> d = CifarReader.parse(List.of(RawFile.of("c" + suffix, mutate(CIFAR, m))), "c", 1, 0, 10);
        case 3 -> d = CifarReader.parse(List.of(RawFile.of("c" + suffix, mutate(CIFAR100, m))), "c", 2, 1, 100);
        default -> d = SvhnReader.parse(RawFile.of("s.mat", mutate(MAT, new Mutation(m.kind(), m.pos(), m.value(),
            false, 4))), "s");
      }
      wellFormed(d);
    } catch (DataException e) {
      assertThat(e.getMessage()).isNotBlank();
    }
  }

  static void wellFormed(Dataset d) {
    assertThat(d.x()).hasSize(d.n() * d.dim());
    for (float v : d.x()) {
      assertThat(v >= 0f && v <= 1f).isTrue();
    }
    for (int v : d.y()) {
      assertThat(v).isBetween(0, d.numClasses() - 1);
    }
  }
}
