package io.github.pathsgd.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * A user's own images in torchvision's {@code ImageFolder} layout: a folder with {@code train/} and {@code test/}
 * (or {@code val/}) subfolders, each holding one subfolder per class with that class's PNG or JPEG images
 * ({@code root/train/cat/001.png}). Classes are the training subfolders' names in sorted order (index 0 first), as
 * torchvision numbers them; a test class folder must name a training class. Files are read in sorted order.
 *
 * <p>Every image must have the size of the first one. An image whose pixels are all grey in one band (PNG/JPEG
 * greyscale) gives one channel if every image of the set is such; otherwise every image is read as RGB (an alpha
 * band is dropped). Values are scaled to [0, 1]. Hidden files (names starting with a dot) are skipped; a file that is
 * not a regular file, not decodable, larger than {@link #MAX_IMAGE_BYTES} or larger than {@link #MAX_PIXELS} pixels
 * (checked from the header, before decoding) is refused with its path. The provenance holds one SHA-256 per split over
 * the sorted (relative path, SHA-256 of the file) list.
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

  /** Reads train and test from an image folder. */
  public static NumpyDatasets.Read read(Path root, String name) {
    Path trainDir = root.resolve("train");
    Path testDir = Files.isDirectory(root.resolve("test")) ? root.resolve("test") : root.resolve("val");
    List<String> classes = subfolders(trainDir);
    if (classes.isEmpty()) {
      throw new DataException(trainDir + ": no class folders; expected train/<class>/<image>.png");
    }
    Map<String, String> files = new LinkedHashMap<>();
    List<Decoded> tr = decode(trainDir, classes, files);
    List<Decoded> te = decode(testDir, classes, files);
    if (tr.isEmpty() || te.isEmpty()) {
      throw new DataException((tr.isEmpty() ? trainDir : testDir) + ": no images (.png, .jpg, .jpeg) in its class "
          + "folders; expected at least one");
    }
    Decoded first = tr.get(0);
    boolean grey = tr.stream().allMatch(Decoded::grey) && te.stream().allMatch(Decoded::grey);
    return new NumpyDatasets.Read(toDataset(tr, first, grey, name + "/train", classes.size()),
        toDataset(te, first, grey, name + "/test", classes.size()), files);
  }

  private record Decoded(Path file, BufferedImage img, int label, boolean grey) {}

  private static List<String> subfolders(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(Files::isDirectory).map(q -> q.getFileName().toString()).filter(n -> !n.startsWith("."))
          .sorted().toList();
    } catch (IOException e) {
      throw new DataException(dir + ": cannot list: " + e.getMessage(), e);
    }
  }

  private static List<Decoded> decode(Path dir, List<String> classes, Map<String, String> files) {
    List<Decoded> out = new ArrayList<>();
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
        byte[] b;
        try {
          b = InputFiles.readBounded(f, MAX_IMAGE_BYTES, "image");
        } catch (IllegalArgumentException e) {
          throw new DataException(e.getMessage(), e);
        } catch (IOException e) {
          throw new DataException(f + ": cannot read: " + e.getMessage(), e);
        }
        md.update((dir.relativize(f) + "\0" + Checksums.sha256Hex(b) + "\n").getBytes(
            java.nio.charset.StandardCharsets.UTF_8));
        BufferedImage img = decodeImage(f, b);
        boolean grey = img.getRaster().getNumBands() == 1;
        out.add(new Decoded(f, img, label, grey));
      }
    }
    files.put(dir + " (" + out.size() + " images; SHA-256 over the sorted path and file-hash list)",
        java.util.HexFormat.of().formatHex(md.digest()));
    return out;
  }

  private static BufferedImage decodeImage(Path f, byte[] b) {
    try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(b))) {
      Iterator<ImageReader> it = ImageIO.getImageReaders(in);
      if (!it.hasNext()) {
        throw new DataException(f + ": not a PNG or JPEG image (no decoder recognises its bytes)");
      }
      ImageReader r = it.next();
      try {
        r.setInput(in, true, true);
        long px = (long) r.getWidth(0) * r.getHeight(0);
        if (px > MAX_PIXELS || px <= 0) {
          throw new DataException(f + ": " + r.getWidth(0) + " x " + r.getHeight(0) + " pixels; expected at most "
              + MAX_PIXELS);
        }
        BufferedImage img = r.read(0);
        if (img == null) {
          throw new DataException(f + ": the image decoder returned nothing");
        }
        return img;
      } finally {
        r.dispose();
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof DataException d) {
        throw d;
      }
      throw new DataException(f + ": cannot decode the image: " + e.getMessage(), e);
    }
  }

  private static Dataset toDataset(List<Decoded> imgs, Decoded first, boolean grey, String name, int classes) {
    int h = first.img().getHeight();
    int w = first.img().getWidth();
    int c = grey ? 1 : 3;
    int d = c * h * w;
    float[] x = new float[Math.toIntExact((long) imgs.size() * d)];
    int[] y = new int[imgs.size()];
    for (int i = 0; i < imgs.size(); i++) {
      Decoded im = imgs.get(i);
      if (im.img().getHeight() != h || im.img().getWidth() != w) {
        throw new DataException(im.file() + ": " + im.img().getWidth() + " x " + im.img().getHeight()
            + " pixels; expected " + w + " x " + h + " like " + first.file() + " (every image of a set the same size)");
      }
      y[i] = im.label();
      var raster = im.img().getRaster();
      int bits = im.img().getColorModel().getComponentSize(0);
      double scale = 1.0 / ((1 << bits) - 1);
      for (int r = 0; r < h; r++) {
        for (int col = 0; col < w; col++) {
          if (grey) {
            x[i * d + r * w + col] = (float) (raster.getSample(col, r, 0) * scale);
          } else {
            int rgb = im.img().getRGB(col, r); // sRGB, alpha dropped; grey images expand to three equal channels
            for (int ch = 0; ch < 3; ch++) {
              x[i * d + (ch * h + r) * w + col] = ((rgb >> (16 - 8 * ch)) & 0xff) / 255f;
            }
          }
        }
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
