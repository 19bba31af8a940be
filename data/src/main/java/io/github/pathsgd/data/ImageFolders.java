package io.github.pathsgd.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A user's own images in torchvision's {@code ImageFolder} layout: a folder with {@code train/} and {@code test/}
 * (or {@code val/}) subfolders, each holding one subfolder per class with that class's PNG or JPEG images
 * ({@code root/train/cat/001.png}). Classes are the training subfolders' names in sorted order (index 0 first), as
 * torchvision numbers them; a test class folder must name a training class. Files are read in sorted order.
 *
 * <p>The format is decided by the first bytes (PNG {@code 89 50 4e 47}, JPEG {@code ff d8 ff}), never by the name;
 * anything else (GIF, BMP, WBMP, ...) is refused with its path. Pixel values are what the file stores, divided by
 * the largest value of its bit depth: PNG is decoded by {@link Png} (every colour type and bit depth, palettes looked
 * up, alpha ignored), JPEG by the JDK's decoder read from its raster (no colour-space conversion), and a JPEG cut
 * before its EOI marker or that makes the decoder warn is refused. An image whose pixels are all grey (PNG colour
 * types 0 and 4, a palette of grey entries, a one-component JPEG) gives one channel if every image of the set is
 * such; otherwise every image is read as RGB (a grey image's value in all three channels).
 *
 * <p>Every image must have the size of the first one. Hidden files (names starting with a dot) are skipped; a file
 * that is not a regular file, not decodable, larger than {@link #MAX_IMAGE_BYTES} or larger than
 * {@link #MAX_PIXELS} pixels is refused with its path. All headers are read first: the floats of all images
 * together (train and test) must fit {@link MemoryBudget} before any image is decoded, and each image is then
 * decoded straight into its place. The provenance holds one SHA-256 per split over the sorted (relative path,
 * SHA-256 of the file) list.
 */
public final class ImageFolders {
  static final long MAX_IMAGE_BYTES = 64L << 20;
  static final long MAX_PIXELS = 1L << 26;
  static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg");

  private ImageFolders() {}

  /** Whether {@code p} is an image folder: a folder with a {@code train} subfolder that holds class folders. */
  public static boolean accepts(Path p) {
    return Files.isDirectory(p.resolve("train")) && (Files.isDirectory(p.resolve("test"))
        || Files.isDirectory(p.resolve("val")));
  }

  /** Reads train and test from an image folder, within {@link MemoryBudget#bytes()}. */
  public static NumpyDatasets.Read read(Path root, String name) {
    return read(root, name, MemoryBudget.bytes());
  }

  /** Reads train and test from an image folder; the images' floats must fit {@code budget} bytes. */
  static NumpyDatasets.Read read(Path root, String name, long budget) {
    Path trainDir = root.resolve("train");
    Path testDir = Files.isDirectory(root.resolve("test")) ? root.resolve("test") : root.resolve("val");
    List<String> classes = subfolders(trainDir);
    if (classes.isEmpty()) {
      throw new DataException(trainDir + ": no class folders; expected train/<class>/<image>.png");
    }
    Map<String, String> files = new LinkedHashMap<>();
    List<Scanned> tr = scan(trainDir, classes, files);
    List<Scanned> te = scan(testDir, classes, files);
    if (tr.isEmpty() || te.isEmpty()) {
      throw new DataException((tr.isEmpty() ? trainDir : testDir) + ": no images (.png, .jpg, .jpeg) in its class "
          + "folders; expected at least one");
    }
    Scanned first = tr.get(0);
    for (List<Scanned> set : List.of(tr, te)) {
      for (Scanned im : set) {
        if (im.height() != first.height() || im.width() != first.width()) {
          throw new DataException(im.file() + ": " + im.width() + " x " + im.height() + " pixels; expected "
              + first.width() + " x " + first.height() + " like " + first.file()
              + " (every image of a set the same size)");
        }
      }
    }
    boolean grey = tr.stream().allMatch(Scanned::grey) && te.stream().allMatch(Scanned::grey);
    int c = grey ? 1 : 3;
    long perImage = (long) c * first.height() * first.width();
    long n = tr.size() + (long) te.size();
    long need = 4 * n * perImage;
    MemoryBudget.require(root.toString(), n + " images (" + tr.size() + " train, " + te.size() + " test) of " + c
        + " x " + first.height() + " x " + first.width() + " values as floats", need, budget);
    return new NumpyDatasets.Read(toDataset(tr, c, first, name + "/train", classes.size()),
        toDataset(te, c, first, name + "/test", classes.size()), files);
  }

  /** One image file as its header describes it (nothing decoded yet). */
  private record Scanned(Path file, String sha256, int label, int width, int height, boolean grey) {}

  private static List<String> subfolders(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(Files::isDirectory).map(q -> q.getFileName().toString()).filter(n -> !n.startsWith("."))
          .sorted().toList();
    } catch (IOException e) {
      throw new DataException(dir + ": cannot list: " + e.getMessage(), e);
    }
  }

  private static List<Scanned> scan(Path dir, List<String> classes, Map<String, String> files) {
    List<Scanned> out = new ArrayList<>();
    MessageDigest md = sha256();
    for (String c : subfolders(dir)) {
      int label = classes.indexOf(c);
      if (label < 0) {
        throw new DataException(dir.resolve(c) + ": class folder '" + c + "' is not a class of the training set "
            + classes + "; expected the same class names in train/ and test/");
      }
      List<Path> imgs;
      try (Stream<Path> s = Files.list(dir.resolve(c))) {
        imgs = s.filter(q -> !q.getFileName().toString().startsWith("."))
            .filter(q -> EXTENSIONS.stream().anyMatch(q.getFileName().toString().toLowerCase(Locale.ROOT)::endsWith))
            .sorted().toList();
      } catch (IOException e) {
        throw new DataException(dir.resolve(c) + ": cannot list: " + e.getMessage(), e);
      }
      for (Path f : imgs) {
        byte[] b = readImage(f);
        String sha = Checksums.sha256Hex(b);
        md.update((dir.relativize(f) + "\0" + sha + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String src = f.toString();
        long w;
        long h;
        boolean grey;
        if (Png.is(b)) {
          Png.Header hd = Png.header(src, b);
          w = hd.width();
          h = hd.height();
          grey = hd.grey();
        } else if (Jpeg.is(b)) {
          Jpeg.Header hd = Jpeg.header(src, b);
          w = hd.width();
          h = hd.height();
          grey = hd.components() == 1;
        } else {
          throw new DataException(src + ": not a PNG or JPEG image (" + sniff(b) + "; expected a PNG, first bytes "
              + "89 50 4e 47, or a JPEG, ff d8 ff)");
        }
        if (w * h > MAX_PIXELS) {
          throw new DataException(src + ": " + w + " x " + h + " pixels; expected at most " + MAX_PIXELS);
        }
        out.add(new Scanned(f, sha, label, (int) w, (int) h, grey));
      }
    }
    files.put(dir + " (" + out.size() + " images; SHA-256 over the sorted path and file-hash list)",
        java.util.HexFormat.of().formatHex(md.digest()));
    return out;
  }

  private static byte[] readImage(Path f) {
    try {
      return InputFiles.readBounded(f, MAX_IMAGE_BYTES, "image");
    } catch (IllegalArgumentException e) {
      throw new DataException(e.getMessage(), e);
    } catch (IOException e) {
      throw new DataException(f + ": cannot read: " + e.getMessage(), e);
    }
  }

  /** The first bytes in hex, and the format they are known for. */
  static String sniff(byte[] b) {
    StringBuilder s = new StringBuilder("its first bytes are");
    for (int i = 0; i < Math.min(4, b.length); i++) {
      s.append(String.format(" %02x", b[i] & 0xff));
    }
    if (b.length == 0) {
      s.append(" none: the file is empty");
    }
    String head = new String(b, 0, Math.min(4, b.length), java.nio.charset.StandardCharsets.ISO_8859_1);
    if (head.startsWith("GIF8")) {
      s.append(", a GIF image");
    } else if (head.startsWith("BM")) {
      s.append(", a BMP image");
    } else if (b.length >= 2 && b[0] == 0 && b[1] == 0) {
      s.append(", as in a WBMP image");
    }
    return s.toString();
  }

  private static Dataset toDataset(List<Scanned> imgs, int c, Scanned first, String name, int classes) {
    int h = first.height();
    int w = first.width();
    int d = c * h * w;
    float[] x = new float[Math.toIntExact((long) imgs.size() * d)];
    int[] y = new int[imgs.size()];
    for (int i = 0; i < imgs.size(); i++) {
      Scanned im = imgs.get(i);
      y[i] = im.label();
      byte[] b = readImage(im.file());
      String src = im.file().toString();
      if (!Checksums.sha256Hex(b).equals(im.sha256())) {
        throw new DataException(src + ": the file changed while the image folder was read (its SHA-256 differs "
            + "from the first reading)");
      }
      try {
        if (Png.is(b)) {
          Png.decode(src, b, Png.header(src, b), x, i * d, c);
        } else {
          Jpeg.decode(src, b, Jpeg.header(src, b), x, i * d, c);
        }
      } catch (OutOfMemoryError e) {
        throw new DataException(src + ": not enough memory to decode the image (raise the heap limit: -Xmx, or "
            + "PATHSGD_JAVA_OPTS for the pathsgd script)", e);
      }
    }
    return new Dataset(name, x, y, imgs.size(), c, h, w, classes);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
