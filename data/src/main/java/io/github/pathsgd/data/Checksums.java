package io.github.pathsgd.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/** Streaming SHA-256 (and MD5, for the checksums that data set authors published) of files and byte arrays. */
public final class Checksums {
  private Checksums() {}

  /** Lowercase hex SHA-256 of a file, read in 64 KiB blocks. */
  public static String sha256(Path file) {
    return digest(file, "SHA-256");
  }

  /** Lowercase hex MD5 of a file, read in 64 KiB blocks. */
  public static String md5(Path file) {
    return digest(file, "MD5");
  }

  /** Lowercase hex SHA-256 of bytes. */
  public static String sha256Hex(byte[] bytes) {
    return HexFormat.of().formatHex(md("SHA-256").digest(bytes));
  }

  /** Lowercase hex digest ({@code "SHA-256"} or {@code "MD5"}) of a file. */
  public static String digest(Path file, String algorithm) {
    MessageDigest md = md(algorithm);
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      int r;
      while ((r = in.read(buf)) > 0) {
        md.update(buf, 0, r);
      }
    } catch (NoSuchFileException e) {
      throw new DataException(file + ": file not found");
    } catch (IOException e) {
      throw new DataException(file + ": cannot read file for checksum: " + InputFiles.reason(e), e);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /**
   * Checks a file against an expected hex digest; the algorithm is chosen by length (32 hex digits: MD5, 64:
   * SHA-256).
   *
   * @throws DataException naming the file, the expected and the actual digest, on mismatch
   */
  public static void verify(Path file, String expectedHex) {
    String exp = expectedHex.toLowerCase(Locale.ROOT);
    String alg = exp.length() == 32 ? "MD5" : "SHA-256";
    String got = digest(file, alg);
    if (!got.equals(exp)) {
      throw new DataException(file + ": " + alg + " checksum mismatch: expected " + exp + ", got " + got);
    }
  }

  private static MessageDigest md(String alg) {
    try {
      return MessageDigest.getInstance(alg);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(alg + " missing from the JDK", e);
    }
  }
}
