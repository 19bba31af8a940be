package io.github.pathsgd.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/**
 * Downloads the official files of a data set into {@code <base>/<dataset>/} (base as in
 * {@link Datasets#baseDir}), checks the published checksum where one is known (otherwise it prints the computed
 * SHA-256), and unpacks the CIFAR tarballs. Never used by the tests (no network). Any failure is a
 * {@link DataException} that says the download failed and names the folder where the files can be put by hand.
 *
 * <p>Checksums are the MD5 values published by the data set authors (CIFAR pages) or long used by torchvision
 * (MNIST mirror, SVHN). Fashion-MNIST has no checksum here (not verifiable offline: the Debian package's .gz files
 * are recompressed); its computed SHA-256 is printed instead.
 */
public final class Downloader {
  /**
   * One downloadable file.
   *
   * @param fileName the name to store it under
   * @param url where to fetch it
   * @param md5 published MD5 in hex, or {@code null} for "no published checksum"
   * @param tarball whether it is a {@code .tar.gz} whose {@code .bin} members are unpacked
   * @param unpackDir for a tarball, the subfolder of the data set folder to unpack into
   */
  public record Remote(String fileName, URI url, String md5, boolean tarball, String unpackDir) {}

  private static final String MNIST = "https://ossci-datasets.s3.amazonaws.com/mnist/";
  private static final String FASHION = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";

  private Downloader() {}

  /** The files to fetch for a data set name (empty for {@code mnist-sample}, which is bundled). */
  public static List<Remote> files(String dataset) {
    String d = dataset.toLowerCase(Locale.ROOT).strip();
    return switch (d) {
      case "mnist" -> List.of(
          plain(MNIST, "train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
          plain(MNIST, "train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
          plain(MNIST, "t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
          plain(MNIST, "t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"));
      case "fashion-mnist" -> List.of(
          plain(FASHION, "train-images-idx3-ubyte.gz", null),
          plain(FASHION, "train-labels-idx1-ubyte.gz", null),
          plain(FASHION, "t10k-images-idx3-ubyte.gz", null),
          plain(FASHION, "t10k-labels-idx1-ubyte.gz", null));
      case "cifar10" -> List.of(new Remote("cifar-10-binary.tar.gz",
          URI.create("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"), "c32a1d4ab5d03f1284b67883e8d87530",
          true, "cifar-10-batches-bin"));
      case "cifar100", "cifar100-coarse" -> List.of(new Remote("cifar-100-binary.tar.gz",
          URI.create("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"), "03b5dce01913d631647c71ecec9e9cb8",
          true, "cifar-100-binary"));
      case "svhn" -> List.of(
          plain("http://ufldl.stanford.edu/housenumbers/", "train_32x32.mat", "e26dedcc434d2e4c54c9b2d4a06d8373"),
          plain("http://ufldl.stanford.edu/housenumbers/", "test_32x32.mat", "eb5a983be6a315427106f1b164d9cef3"));
      case "svhn-extra" -> {
        List<Remote> l = new ArrayList<>(files("svhn"));
        l.add(plain("http://ufldl.stanford.edu/housenumbers/", "extra_32x32.mat", "a93ce644f1a588dc4d68dda5feec44a7"));
        yield l;
      }
      case "mnist-sample" -> List.of();
      default -> throw new DataException("unknown data set '" + dataset + "'; known: " + Datasets.names());
    };
  }

  private static Remote plain(String base, String name, String md5) {
    return new Remote(name, URI.create(base + name), md5, false, null);
  }

  /**
   * Downloads (and unpacks) a data set into {@code <base>/<dataset>/}, skipping files already there.
   *
   * @return the data set folder
   * @throws DataException if a download fails or a checksum does not match
   */
  public static Path download(String dataset, Path dataDir, PrintStream log) {
    String canon = Datasets.canonical(dataset);
    Path dir = Datasets.baseDir(dataDir).resolve(canon);
    for (Remote r : files(dataset)) {
      fetch(r, dir, log);
    }
    return dir;
  }

  /** Fetches one file into {@code dir} (atomic rename from a {@code .part} file), verifies and unpacks it. */
  static Path fetch(Remote r, Path dir, PrintStream log) {
    Path target = dir.resolve(r.fileName());
    String byHand = "; put " + r.fileName() + (r.tarball() ? " (or its unpacked .bin files in "
        + dir.resolve(r.unpackDir()) + ")" : "") + " into " + dir + " by hand (from " + r.url() + ")";
    try {
      Files.createDirectories(dir);
      if (!Files.isRegularFile(target)) {
        log.println("downloading " + r.url() + " -> " + target);
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(20))
            .followRedirects(HttpClient.Redirect.NORMAL).build();
        HttpResponse<InputStream> resp = client.send(HttpRequest.newBuilder(r.url())
            .timeout(Duration.ofMinutes(30)).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        if (resp.statusCode() != 200) {
          resp.body().close();
          throw new DataException("download of " + r.url() + " failed: HTTP " + resp.statusCode() + byHand);
        }
        Path part = dir.resolve(r.fileName() + ".part");
        try (InputStream in = resp.body()) {
          Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (DataException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new DataException("download of " + r.url() + " failed: " + e + byHand, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DataException("download of " + r.url() + " interrupted" + byHand, e);
    }
    if (r.md5() != null) {
      Checksums.verify(target, r.md5());
      log.println("MD5 ok: " + target);
    } else {
      log.println("no published checksum for " + r.fileName() + "; SHA-256 " + Checksums.sha256(target));
    }
    log.println("SHA-256 " + Checksums.sha256(target) + "  " + target);
    if (r.tarball()) {
      untarBins(target, dir.resolve(r.unpackDir()));
    }
    return target;
  }

  /**
   * Unpacks the regular {@code .bin}/{@code .txt} members of a {@code .tar.gz} (ustar) into {@code out}, by base name
   * only (no paths from the archive are used).
   */
  static List<Path> untarBins(Path tarGz, Path out) {
    List<Path> written = new ArrayList<>();
    try (InputStream in = new BufferedInputStream(new GZIPInputStream(Files.newInputStream(tarGz), 1 << 16))) {
      Files.createDirectories(out);
      byte[] h = new byte[512];
      long offset = 0;
      while (true) {
        if (in.readNBytes(h, 0, 512) < 512) {
          throw new DataException(tarGz + ": tar archive truncated at byte offset " + offset + " (header)");
        }
        offset += 512;
        boolean zero = true;
        for (byte b : h) {
          zero &= b == 0;
        }
        if (zero) {
          break;
        }
        String name = new String(h, 0, 100, StandardCharsets.US_ASCII).replaceAll("\0.*", "");
        String prefix = new String(h, 345, 155, StandardCharsets.US_ASCII).replaceAll("\0.*", "");
        String sizeField = new String(h, 124, 12, StandardCharsets.US_ASCII).replaceAll("[\0 ]", "");
        long size;
        try {
          size = sizeField.isEmpty() ? 0 : Long.parseLong(sizeField, 8);
        } catch (NumberFormatException e) {
          throw new DataException(tarGz + ": bad tar size field at byte offset " + (offset - 512 + 124) + ": '"
              + sizeField + "'");
        }
        char type = (char) h[156];
        String full = prefix.isEmpty() ? name : prefix + "/" + name;
        String base = full.substring(full.lastIndexOf('/') + 1);
        long padded = (size + 511) / 512 * 512;
        if ((type == '0' || type == '\0') && (base.endsWith(".bin") || base.endsWith(".txt")) && !base.isEmpty()) {
          Path dst = out.resolve(base);
          try (var os = Files.newOutputStream(dst)) {
            long left = size;
            byte[] buf = new byte[1 << 16];
            while (left > 0) {
              int r = in.read(buf, 0, (int) Math.min(buf.length, left));
              if (r < 0) {
                throw new DataException(tarGz + ": tar member " + full + " truncated");
              }
              os.write(buf, 0, r);
              left -= r;
            }
          }
          in.skipNBytes(padded - size);
          written.add(dst);
        } else {
          in.skipNBytes(padded);
        }
        offset += padded;
      }
    } catch (DataException e) {
      throw e;
    } catch (IOException e) {
      throw new DataException(tarGz + ": cannot unpack: " + e + "; unpack it by hand into " + out, e);
    }
    return written;
  }
}
