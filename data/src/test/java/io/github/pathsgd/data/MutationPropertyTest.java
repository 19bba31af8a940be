package io.github.pathsgd.data;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.testkit.Tries;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

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

  /**
   * A drawn mutation: each kind and target equally likely; the position and the value half the time small (position
   * below 4096, value in [-256, 256)), half the time anywhere in their ranges.
   */
  static Mutation draw(SplittableRandom r) {
    int pos = r.nextBoolean() ? r.nextInt(4096) : r.nextInt((1 << 20) + 1);
    int value = r.nextBoolean() ? r.nextInt(-256, 256) : r.nextInt();
    return new Mutation(r.nextInt(4), pos, value, r.nextBoolean(), r.nextInt(5));
  }

  /** Every kind, target and gzip choice with the value 0, -1, min and max, at the first position and at 2^20. */
  static List<Mutation> edges() {
    List<Mutation> e = new ArrayList<>();
    for (int pos : new int[] {0, 1 << 20}) {
      for (int value : new int[] {0, -1, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
        for (int kind = 0; kind < 4; kind++) {
          for (int target = 0; target < 5; target++) {
            e.add(new Mutation(kind, pos, value, false, target));
            e.add(new Mutation(kind, pos, value, true, target));
          }
        }
      }
    }
    return e;
  }

  /** Shrink candidates: the position, then the value, moved toward 0; gzip off. */
  static List<Mutation> smaller(Mutation m) {
    List<Mutation> s = new ArrayList<>();
    Tries.toward(m.pos(), 0).forEach(p -> s.add(new Mutation(m.kind(), p, m.value(), m.gzipFirst(), m.target())));
    int v = m.value();
    for (int w : new int[] {0, v / 2}) {
      if (Math.abs((long) w) < Math.abs((long) v)) {
        s.add(new Mutation(m.kind(), m.pos(), w, m.gzipFirst(), m.target()));
      }
    }
    if (m.gzipFirst()) {
      s.add(new Mutation(m.kind(), m.pos(), m.value(), false, m.target()));
    }
    return s;
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

  @Test
  void onlyDataExceptionEscapes() {
    Tries.forAll(6000, 0xDA7A_0001L, edges(), MutationPropertyTest::draw, MutationPropertyTest::smaller,
        MutationPropertyTest::onlyDataExceptionEscapes);
  }

  static void onlyDataExceptionEscapes(Mutation m) {
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
