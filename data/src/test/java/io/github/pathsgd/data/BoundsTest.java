package io.github.pathsgd.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decompression is bounded by what the data declares (the IDX header, else the gzip size trailer), by what deflate can
 * produce from the compressed size, and by the heap; trailing bytes and second gzip members are refused; train and
 * test must agree in shape; the preprocessing values must fit the data.
 */
class BoundsTest {
  @TempDir Path tmp;

  /** 4 GiB of zeros in about 4 MiB: a 1 MiB zero chunk deflated once and repeated (each chunk is context-free). */
  static byte[] bombZeros;
  /** The same, after a valid IDX image header for 60,000 images of 28 x 28 (47,040,016 bytes declared). */
  static byte[] bombIdx;

  @BeforeAll
  static void bombs() {
    bombZeros = bomb(new byte[0], 4096, 0);
    byte[] header = ByteBuffer.allocate(16).putInt(IdxReader.IMAGES_MAGIC).putInt(60000).putInt(28).putInt(28)
        .array();
    bombIdx = bomb(header, 4096, 0);
  }

  /**
   * A gzip member of {@code prefix} followed by zeros, {@code mib} MiB in all, with {@code isize} as its size trailer
   * and a CRC-32 that is not checked (the reader must refuse long before the end).
   */
  static byte[] bomb(byte[] prefix, int mib, long isize) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 255});
    byte[] first = new byte[1 << 20];
    System.arraycopy(prefix, 0, first, 0, prefix.length);
    out.writeBytes(flushedChunk(first));
    byte[] zeros = flushedChunk(new byte[1 << 20]);
    for (int i = 1; i < mib; i++) {
      out.writeBytes(zeros);
    }
    out.writeBytes(new byte[] {3, 0}); // final empty block (fixed Huffman, end of block)
    out.writeBytes(le32(0));
    out.writeBytes(le32(isize));
    return out.toByteArray();
  }

  /** Raw deflate of {@code data} from a fresh state, ended by a full flush (byte-aligned, no back-references out). */
  static byte[] flushedChunk(byte[] data) {
    Deflater d = new Deflater(9, true);
    d.setInput(data);
    byte[] buf = new byte[data.length + 4096];
    int n = d.deflate(buf, 0, buf.length, Deflater.FULL_FLUSH);
    d.end();
    return Arrays.copyOf(buf, n);
  }

  static byte[] le32(long v) {
    return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
  }

  static long allocatedBytes() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
  }

  private Path file(String name, byte[] b) throws IOException {
    Path p = tmp.resolve(name);
    Files.write(p, b);
    return p;
  }

  @Test
  void theBombsAreWhatTheySay() {
    assertThat(bombZeros.length).isBetween(3 << 20, 5 << 20); // about 4 MiB
    // the first 64 MiB of the stream really are zeros (the whole stream is 4 GiB; not inflated here)
    java.util.zip.Inflater inf = new java.util.zip.Inflater(true);
    inf.setInput(bombIdx, 10, bombIdx.length - 10);
    byte[] out = new byte[64 << 20];
    try {
      int n = 0;
      while (n < out.length) {
        n += inf.inflate(out, n, out.length - n);
      }
    } catch (java.util.zip.DataFormatException e) {
      throw new AssertionError(e);
    } finally {
      inf.end();
    }
    assertThat(ByteBuffer.wrap(out).getInt(4)).isEqualTo(60000);
    for (int i = 16; i < out.length; i += 4099) {
      assertThat(out[i]).isZero();
    }
  }

  @Test
  void idxBombIsInflatedOnlyToTheSizeItsHeaderDeclares() throws Exception {
    Path img = file("train-images-idx3-ubyte.gz", bombIdx);
    Path lab = file("train-labels-idx1-ubyte", TestFiles.idxLabels(60000, 10));
    long before = allocatedBytes();
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> IdxReader.read(img, lab, "t", 10)).isInstanceOf(DataException.class)
        .hasMessage(img + ": gzip data decompresses to more than 47040016 bytes, but the IDX image header "
            + "(count 60000 at offset 4, 28 x 28) implies 47040016 bytes (trailing data)");
    double seconds = (System.nanoTime() - t0) / 1e9;
    long allocated = allocatedBytes() - before;
    // the stored 4 MiB (read, hashed), then one 47 MB buffer: nowhere near the 4 GiB the stream holds
    assertThat(allocated).isLessThan(47_040_016L + 3L * bombIdx.length + (8 << 20));
    assertThat(seconds).isLessThan(5);
  }

  @Test
  void zeroBombIsRefusedByItsHeaderBeforeAnythingIsInflated() throws Exception {
    Path img = file("img.gz", bombZeros);
    Path lab = file("lab", TestFiles.idxLabels(1, 10));
    long before = allocatedBytes();
    assertThatThrownBy(() -> IdxReader.read(img, lab, "t", 10)).isInstanceOf(DataException.class)
        .hasMessageContaining(img + ": bad IDX magic at byte offset 0: 0x00000000, expected 0x00000803");
    assertThat(allocatedBytes() - before).isLessThan(3L * bombZeros.length + (4 << 20));
  }

  @Test
  void headerlessBombIsBoundedByItsSizeTrailer() throws Exception {
    // CIFAR has no header: the gzip trailer bounds it. 4 GiB of data has ISIZE 0 (mod 2^32): refused at once
    Path honest = file("train.bin.gz", bombZeros);
    long before = allocatedBytes();
    assertThatThrownBy(() -> CifarReader.readCifar10(List.of(honest), "c")).isInstanceOf(DataException.class)
        .hasMessageContaining(honest + ": gzip data decompresses to more than 0 bytes, but the gzip size trailer "
            + "(the file's last 4 bytes) declares 0 decompressed bytes")
        .hasMessageContaining("4 GiB or more is not supported");
    assertThat(allocatedBytes() - before).isLessThan(3L * bombZeros.length + (4 << 20));
    // a trailer that claims more than deflate can make of the compressed size is refused before inflating
    byte[] lie = bombZeros.clone();
    System.arraycopy(le32(4_200_000_000L), 0, lie, lie.length - 4, 4);
    Path liar = file("liar.bin.gz", lie);
    assertThatThrownBy(() -> CifarReader.readCifar10(List.of(liar), "c")).isInstanceOf(DataException.class)
        .hasMessageContaining("declares 4200000000 decompressed bytes, more than the 2147483631 bytes this reader "
            + "supports");
    // a trailer that claims 30 MiB: inflated up to 30 MiB, not further
    System.arraycopy(le32(30 << 20), 0, lie, lie.length - 4, 4);
    Path small = file("small.bin.gz", lie);
    long b2 = allocatedBytes();
    assertThatThrownBy(() -> CifarReader.readCifar10(List.of(small), "c")).isInstanceOf(DataException.class)
        .hasMessageContaining("decompresses to more than 31457280 bytes");
    assertThat(allocatedBytes() - b2).isLessThan((30L << 20) * 2 + 3L * lie.length + (4 << 20));
  }

  @Test
  void trailingBytesAfterTheGzipMemberAreRefused() throws Exception {
    byte[] gz = TestFiles.gzip(TestFiles.cifar(5, false, 0));
    // four bytes of garbage: read as a size trailer they would claim 1.45 GB
    byte[] g = Arrays.copyOf(gz, gz.length + 4);
    System.arraycopy(le32(1_450_000_000L), 0, g, gz.length, 4);
    Path p = file("g.bin.gz", g);
    assertThatThrownBy(() -> CifarReader.readCifar10(List.of(p), "c")).isInstanceOf(DataException.class)
        .hasMessageContaining(p.toString()).hasMessageContaining("1450000000");
    // garbage whose last 4 bytes are the true size: inflated in full, then the 3 extra bytes refused
    byte[] h = Arrays.copyOf(gz, gz.length + 7);
    System.arraycopy(gz, gz.length - 4, h, gz.length + 3, 4);
    Path q = file("h.bin.gz", h);
    assertThatThrownBy(() -> CifarReader.readCifar10(List.of(q), "c")).isInstanceOf(DataException.class)
        .hasMessage(q + ": 7 bytes of trailing data after the end of the gzip data at byte offset " + gz.length
            + ", expected the end of the file (corrupt file)");
    // an IDX file with trailing zeros after its member
    byte[] idx = TestFiles.gzip(TestFiles.idxImages(3, 28, 28));
    Path r = file("img.gz", Arrays.copyOf(idx, idx.length + 100));
    assertThatThrownBy(() -> IdxReader.read(r, file("lab", TestFiles.idxLabels(3, 10)), "t", 10))
        .isInstanceOf(DataException.class).hasMessageContaining("100 bytes of trailing data");
  }

  @Test
  void concatenatedGzipMembersAreRefused() throws Exception {
    byte[] a = TestFiles.gzip(TestFiles.cifar(2, false, 0));
    byte[] b = TestFiles.gzip(TestFiles.cifar(3, false, 2));
    byte[] ab = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, ab, a.length, b.length);
    Path p = file("ab.bin.gz", ab);
    assertThatThrownBy(() -> CifarReader.readCifar10(List.of(p), "c")).isInstanceOf(DataException.class)
        .hasMessageContaining("a second gzip member starts at byte offset " + a.length)
        .hasMessageContaining("concatenated gzip members are not supported");
  }

  @Test
  void corruptTrailersAreRefused() throws Exception {
    byte[] gz = TestFiles.gzip(TestFiles.cifar(2, false, 0));
    byte[] crc = gz.clone();
    crc[gz.length - 8] ^= 1;
    Path p = file("crc.bin.gz", crc);
    assertThatThrownBy(() -> CifarReader.readCifar10(List.of(p), "c")).isInstanceOf(DataException.class)
        .hasMessageContaining("gzip CRC-32 mismatch");
    byte[] flags = gz.clone();
    flags[3] = (byte) 0x80;
    Path f = file("flags.bin.gz", flags);
    assertThatThrownBy(() -> CifarReader.readCifar10(List.of(f), "c")).isInstanceOf(DataException.class)
        .hasMessageContaining("reserved bits");
  }

  @Test
  void honestGzipStillReadsExactly() throws Exception {
    byte[] raw = TestFiles.cifar(7, false, 0);
    RawFile f = RawFile.of("x.gz", TestFiles.gzip(raw));
    assertThat(f.data()).isEqualTo(raw);
    assertThat(f.gzip()).isTrue();
    byte[] idx = TestFiles.idxImages(4, 28, 28);
    assertThat(RawFile.of("y.gz", TestFiles.gzip(idx), IdxReader.IMAGES_SIZE).data()).isEqualTo(idx);
    // an empty member and a member with a file name in its header
    assertThat(RawFile.of("e.gz", TestFiles.gzip(new byte[0])).data()).isEmpty();
    byte[] named = withName(TestFiles.gzip(raw), "cifar.bin");
    assertThat(RawFile.of("n.gz", named).data()).isEqualTo(raw);
  }

  /** Sets FNAME in a gzip header and inserts a zero-terminated name. */
  static byte[] withName(byte[] gz, String name) {
    byte[] n = (name + "\0").getBytes(StandardCharsets.ISO_8859_1);
    byte[] out = new byte[gz.length + n.length];
    System.arraycopy(gz, 0, out, 0, 10);
    out[3] |= 8;
    System.arraycopy(n, 0, out, 10, n.length);
    System.arraycopy(gz, 10, out, 10 + n.length, gz.length - 10);
    return out;
  }

  /** A child JVM with a 256 MiB heap reads the bombs through {@link Datasets#load}: refused, quickly. */
  @Test
  void bombsUnderA256MiBHeapAreRefusedQuickly() throws Exception {
    Path mnist = tmp.resolve("mnist");
    TestFiles.writeMnist(mnist, 10, 10, false);
    Files.delete(mnist.resolve("train-images-idx3-ubyte"));
    Files.write(mnist.resolve("train-images-idx3-ubyte.gz"), bombIdx);
    Files.write(mnist.resolve("train-labels-idx1-ubyte"), TestFiles.idxLabels(60000, 10));
    Path cifar = tmp.resolve("cifar10");
    Files.createDirectories(cifar);
    Files.write(cifar.resolve("train.bin.gz"), bombZeros);
    Files.write(cifar.resolve("test.bin"), TestFiles.cifar(2, false, 0));
    for (String[] c : new String[][] {{"mnist", mnist.toString(), "implies 47040016 bytes (trailing data)"},
        {"cifar10", cifar.toString(), "decompresses to more than 0 bytes"}}) {
      long t0 = System.nanoTime();
      Child r = child(c[0], c[1]);
      double seconds = (System.nanoTime() - t0) / 1e9;
      assertThat(r.code()).as(r.out()).isEqualTo(3);
      assertThat(r.out()).contains(c[2]).doesNotContain("OutOfMemoryError");
      // JVM start included; the refusal itself is reported by the child
      assertThat(seconds).as(r.out()).isLessThan(20);
      System.out.println("child -Xmx256m " + c[0] + ": " + String.format("%.2f", seconds) + " s: " + r.out().strip());
    }
  }

  record Child(int code, String out) {}

  static Child child(String dataset, String dir) throws Exception {
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-cp", cp, LoadMain.class.getName(), dataset, dir));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(
        new File("/dev/null"))).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("child JVM did not finish in 60 s");
    }
    return new Child(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  /** The child: loads a data set; exit 0 when loaded, 3 on a DataException (printed with its time), 4 on OOM. */
  public static final class LoadMain {
    public static void main(String[] args) {
      long t0 = System.nanoTime();
      try {
        Datasets.load(DataRequest.of(args[0], Path.of(args[1])));
        System.out.println("loaded");
        System.exit(0);
      } catch (DataException e) {
        System.out.println(e.getMessage() + String.format(" [refused in %.3f s, heap used %d MiB]",
            (System.nanoTime() - t0) / 1e9, (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory())
                >> 20));
        System.exit(3);
      } catch (OutOfMemoryError e) {
        System.out.println("OutOfMemoryError: " + e.getMessage());
        System.exit(4);
      }
    }
  }

  @Test
  void trainAndTestMustAgreeInShape() throws Exception {
    Path d = tmp.resolve("m");
    TestFiles.writeMnist(d, 20, 5, false);
    Files.write(d.resolve("t10k-images-idx3-ubyte"), TestFiles.idxImages(5, 27, 27));
    assertThatThrownBy(() -> Datasets.load(DataRequest.of("mnist", d))).isInstanceOf(DataException.class)
        .hasMessage("mnist/test (" + d.resolve("t10k-images-idx3-ubyte") + ", " + d.resolve("t10k-labels-idx1-ubyte")
            + ") has images of 1 x 27 x 27 (channels x height x width), 10 classes but mnist/train ("
            + d.resolve("train-images-idx3-ubyte") + ", " + d.resolve("train-labels-idx1-ubyte") + ") has 1 x 28 x 28 "
            + "(channels x height x width), 10 classes; train and test must agree in channels, height, width and "
            + "class count");
  }

  @Test
  void emptySetsAreRefused() throws Exception {
    Path d = tmp.resolve("e");
    TestFiles.writeMnist(d, 0, 5, true);
    assertThatThrownBy(() -> Datasets.load(DataRequest.of("mnist", d))).isInstanceOf(DataException.class)
        .hasMessageStartingWith("mnist/train has no images (").hasMessageEndingWith("); expected at least one");
  }

  @Test
  void preprocessingValuesMustFitTheData() {
    assertThatThrownBy(() -> Datasets.load(new DataRequest("mnist-sample", null, 0, 1, new Preprocessing(false, 29,
        false, 0)))).isInstanceOf(DataException.class).hasMessage("downsample 29 is larger than the 28 x 28 images "
        + "of mnist-sample; expected 1..28 (0 = off)");
    assertThatThrownBy(() -> Datasets.load(new DataRequest("mnist-sample", null, 8000, 1, Preprocessing.NONE)))
        .isInstanceOf(DataException.class).hasMessage("validation size 8000 (validation_size) is not below the 8000 images of "
        + "mnist-sample/train; expected 0..7999 (the rest is the training split)");
    DataSplits ok = Datasets.load(new DataRequest("mnist-sample", null, 1000, 1, Preprocessing.NONE));
    int smallest = Arrays.stream(ok.train().classHistogram()).min().getAsInt();
    assertThatThrownBy(() -> Datasets.load(new DataRequest("mnist-sample", null, 1000, 1, new Preprocessing(false, 0,
        false, smallest + 1)))).isInstanceOf(DataException.class)
        .hasMessageStartingWith("per_class_train " + (smallest + 1) + " is more than the " + smallest + " images of "
            + "class ")
        .hasMessageEndingWith(" in mnist-sample/train (7000 images after 1000 went to validation); expected at most "
            + smallest + " (0 = all)");
    assertThat(Datasets.load(new DataRequest("mnist-sample", null, 1000, 1, new Preprocessing(false, 28, false,
        smallest))).train().classHistogram()).containsOnly(smallest);
  }
}
