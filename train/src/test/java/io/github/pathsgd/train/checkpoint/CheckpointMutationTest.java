package io.github.pathsgd.train.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.NetLayout;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.train.Trainer;
import io.github.pathsgd.train.TrainerTest;
import io.github.pathsgd.train.history.EpochRecord;
import io.github.pathsgd.train.history.RunResult;
import io.github.pathsgd.train.listener.TrainingListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints that are damaged or not the run's are refused, never resumed: a mutation property test over thousands
 * of byte-level mutations of a real checkpoint (every single-bit flip, every truncation, random insertions, deletions,
 * replacements and appended bytes: all refused, by the checksum or the magic/version check), forged checkpoints whose
 * checksum is right but whose fields are not (each field checked), and the checks against the resuming run.
 */
class CheckpointMutationTest {
  static final int EPOCHS = 4;
  static final int STEPS = 30; // 300 training rows, batch 10
  static final String HASH = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

  static Trainer trainer(Supplier<Optimizer> opt, int epochs, String hash) {
    LayerNet net = Init.balanced(new DenseChain(6, 5, 3), new Rng(5));
    Trainer.Options o = new Trainer.Options(10, epochs, new Dropout(0.5f, 1f), 42, 0, false, true, 64);
    return new Trainer(net, opt.get(), TrainerTest.blobs(300, 1), TrainerTest.blobs(60, 2), TrainerTest.blobs(90, 3),
        o, hash);
  }

  static Supplier<Optimizer> momentum() {
    return () -> Optimizers.sgd(0.05, 0.9, false);
  }

  /** A real checkpoint: 2 of 4 epochs of SGD with momentum on the blobs. */
  static Path checkpoint(Path dir, Supplier<Optimizer> opt) {
    Path ckpt = dir.resolve("checkpoint.bin");
    trainer(opt, 2, HASH).run(TrainingListener.NONE, ckpt);
    return ckpt;
  }

  static Map<String, Object> fresh(Supplier<Optimizer> opt) {
    return opt.get().init(NetLayout.dense(6, 5, 3)).export();
  }

  static final Map<String, Object> FRESH = fresh(momentum());

  static Checkpoint resume(Path f) throws IOException {
    return Checkpoint.readForResume(f, HASH, NetLayout.dense(6, 5, 3), EPOCHS, STEPS, FRESH);
  }

  private static int sampled;

  /**
   * Reads {@code bytes} as a checkpoint (from memory; every 100th case also from the real file {@code f}, to the same
   * outcome); returns the kind of refusal, or fails if it is accepted.
   */
  static String refusal(Path f, byte[] bytes, String what) throws IOException {
    String m = refusal(f, bytes, what, false);
    if (sampled++ % 100 == 0) {
      Files.write(f, bytes);
      assertThat(refusal(f, bytes, what, true)).as(what).isEqualTo(m);
    }
    return m;
  }

  private static String refusal(Path f, byte[] bytes, String what, boolean fromFile) throws IOException {
    try {
      if (fromFile) {
        resume(f);
      } else {
        Checkpoint.readForResume(new MemoryChannel(bytes), f, HASH, NetLayout.dense(6, 5, 3), EPOCHS, STEPS, FRESH);
      }
    } catch (Checkpoint.InvalidCheckpointException e) {
      assertThat(e.getMessage()).startsWith("checkpoint " + f + ": ")
          .endsWith("; not resumed (delete " + f + " to start the run over)").doesNotContain("\n");
      String m = e.getMessage().substring(("checkpoint " + f + ": ").length());
      return m.startsWith("checksum mismatch") ? "checksum mismatch" : m.startsWith("not a pathsgd") ? "bad magic"
          : m.startsWith("format version") ? "format version" : m.startsWith("truncated") ? "too short" : m;
    }
    fail("accepted a mutated checkpoint (" + what + ")");
    return null;
  }

  @Test
  void everyByteLevelMutationIsRefused(@TempDir Path tmp) throws IOException {
    Path ckpt = checkpoint(tmp, momentum());
    byte[] valid = Files.readAllBytes(ckpt);
    Checkpoint ok = resume(ckpt);
    assertThat(ok.epoch()).isEqualTo(2);
    assertThat(ok.history()).hasSize(3);
    Path f = tmp.resolve("mutated.bin");
    Map<String, Map<String, Integer>> counts = new LinkedHashMap<>();
    Rng rng = new Rng(2026);
    long start = System.nanoTime();
    int cases = 0;
    // every single-bit flip
    for (int i = 0; i < valid.length; i++) {
      for (int b = 0; b < 8; b++) {
        byte[] m = valid.clone();
        m[i] ^= (byte) (1 << b);
        count(counts, "bit flip", refusal(f, m, "bit " + b + " of byte " + i));
        cases++;
      }
    }
    // every truncation
    for (int n = 0; n < valid.length; n++) {
      count(counts, "truncation", refusal(f, Arrays.copyOf(valid, n), "cut to " + n + " bytes"));
      cases++;
    }
    for (int k = 0; k < 1000; k++) {
      int pos = rng.nextInt(valid.length + 1);
      int len = 1 + rng.nextInt(8);
      byte[] ins = new byte[len];
      for (int j = 0; j < len; j++) {
        ins[j] = (byte) rng.nextInt(256);
      }
      byte[] m = new byte[valid.length + len];
      System.arraycopy(valid, 0, m, 0, pos);
      System.arraycopy(ins, 0, m, pos, len);
      System.arraycopy(valid, pos, m, pos + len, valid.length - pos);
      count(counts, "insertion", refusal(f, m, len + " bytes inserted at " + pos));
      int from = rng.nextInt(valid.length);
      int del = 1 + rng.nextInt(Math.min(16, valid.length - from));
      byte[] d = new byte[valid.length - del];
      System.arraycopy(valid, 0, d, 0, from);
      System.arraycopy(valid, from + del, d, from, valid.length - from - del);
      count(counts, "deletion", refusal(f, d, del + " bytes deleted at " + from));
      byte[] r = valid.clone();
      int at = rng.nextInt(valid.length);
      r[at] = (byte) (r[at] ^ (1 + rng.nextInt(255)));
      count(counts, "byte replacement", refusal(f, r, "byte " + at + " replaced"));
      byte[] a = Arrays.copyOf(valid, valid.length + 1 + rng.nextInt(8));
      count(counts, "appended bytes", refusal(f, a, "bytes appended"));
      cases += 4;
    }
    System.out.println("CheckpointMutationTest: " + cases + " mutations of a " + valid.length + "-byte checkpoint, "
        + "all refused (" + (System.nanoTime() - start) / 1000000 + " ms, every 100th also read from a file): "
        + counts);
    assertThat(cases).isGreaterThan(8 * valid.length);
    assertThat(counts.get("bit flip").values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(8 * valid.length);
  }

  private static void count(Map<String, Map<String, Integer>> counts, String mutation, String outcome) {
    counts.computeIfAbsent(mutation, k -> new TreeMap<>()).merge(outcome, 1, Integer::sum);
  }

  /** A checkpoint with a correct checksum whose fields are wrong: each field is checked on its own. */
  @Test
  void forgedFieldsAreRefusedOneByOne(@TempDir Path tmp) throws IOException {
    Checkpoint c = resume(checkpoint(tmp, momentum()));
    Path f = tmp.resolve("forged.bin");
    List<EpochRecord> h = c.history();
    EpochRecord last = h.get(2);
    Map<String, Checkpoint> forged = new LinkedHashMap<>();
    forged.put("'#count' is 60.0, expected 3000 (epoch 100 × 30 steps)", with(c, 100, h));
    forged.put("'#count' is 60.0, expected 64424509410 (epoch 2147483647 × 30 steps)", with(c, Integer.MAX_VALUE,
        h));
    forged.put("history of 3 epochs, expected 101", counts(with(c, 100, h), 100 * STEPS));
    forged.put("history of 3 epochs, expected 2147483648", counts(with(c, Integer.MAX_VALUE, h),
        (double) Integer.MAX_VALUE * STEPS));
    forged.put("epoch -1, expected >= 0", with(c, -1, h));
    forged.put("'#count' is 60.0, expected 30", with(c, 1, h.subList(0, 2)));
    forged.put("history record 1: epoch 2, expected 1", with(c, 2, List.of(h.get(0), last, last)));
    forged.put("history record 2: train loss NaN", with(c, 2, List.of(h.get(0), h.get(1), rec(last, Double.NaN, 0.1,
        1))));
    forged.put("history record 2: train error 1.5", with(c, 2, List.of(h.get(0), h.get(1), rec(last, 0.1, 1.5, 1))));
    forged.put("history record 2: seconds -1.0", with(c, 2, List.of(h.get(0), h.get(1), rec(last, 0.1, 0.1, -1))));
    forged.put("written for config hash other", new Checkpoint("other", c.widths(), 2, STEPS, c.params(),
        c.optState(), h));
    forged.put("layout 6-6-3, this run's network is 6-5-3", new Checkpoint(HASH, new int[] {6, 6, 3}, 2, STEPS,
        Arrays.copyOf(c.params(), 6 * 6 + 6 + 6 * 3 + 3), c.optState(), h));
    forged.put("layout [6, 0, 3]", new Checkpoint(HASH, new int[] {6, 0, 3}, 2, STEPS, c.params(), c.optState(), h));
    forged.put("44 parameters, the layout 6-5-3 has 53", new Checkpoint(HASH, c.widths(), 2, STEPS,
        Arrays.copyOf(c.params(), 44), c.optState(), h));
    float[] nan = c.params().clone();
    nan[7] = Float.NaN;
    forged.put("parameter 7 is NaN", new Checkpoint(HASH, c.widths(), 2, STEPS, nan, c.optState(), h));
    Map<String, Object> opt = new LinkedHashMap<>(c.optState());
    opt.put("0.momentum", new float[5]);
    forged.put("optimizer buffer '0.momentum' has 5 floats, expected 53", new Checkpoint(HASH, c.widths(), 2, STEPS,
        c.params(), opt, h));
    Map<String, Object> extra = new LinkedHashMap<>(c.optState());
    extra.put("0.sum_sq", new float[53]);
    forged.put("unexpected optimizer entry '0.sum_sq'", new Checkpoint(HASH, c.widths(), 2, STEPS, c.params(), extra,
        h));
    Map<String, Object> lacks = new LinkedHashMap<>(c.optState());
    lacks.remove("0.momentum");
    forged.put("optimizer entry '0.momentum' missing", new Checkpoint(HASH, c.widths(), 2, STEPS, c.params(), lacks,
        h));
    forged.put("31 steps per epoch, this run takes 30", with31Steps(c));
    int refused = 0;
    for (var e : forged.entrySet()) {
      e.getValue().write(f);
      assertThatThrownBy(() -> resume(f)).as(e.getKey()).isInstanceOf(Checkpoint.InvalidCheckpointException.class)
          .hasMessageContaining(e.getKey()).hasMessageContaining("not resumed (delete " + f);
      refused++;
    }
    checkpoint(tmp, momentum());
    assertThatThrownBy(() -> Checkpoint.readForResume(tmp.resolve("checkpoint.bin"), HASH, NetLayout.dense(6, 5, 3),
        1, STEPS, fresh(momentum()))).hasMessageContaining("epoch 2 beyond this run's epoch budget of 1");
    // another optimizer's fresh state (AdaGrad: sum_sq, no momentum) does not match
    assertThatThrownBy(() -> Checkpoint.readForResume(tmp.resolve("checkpoint.bin"), HASH, NetLayout.dense(6, 5, 3),
        EPOCHS, STEPS, fresh(() -> Optimizers.adagrad(0.1)))).hasMessageContaining("optimizer entry");
    System.out.println("CheckpointMutationTest: " + (refused + 2) + " forged checkpoints with a valid checksum, all "
        + "refused by their field checks");
  }

  private static Checkpoint with(Checkpoint c, int epoch, List<EpochRecord> history) {
    Map<String, Object> opt = new LinkedHashMap<>(c.optState());
    return new Checkpoint(c.configHash(), c.widths(), epoch, c.stepsPerEpoch(), c.params(), opt, history);
  }

  /** The same checkpoint with every step count set to {@code count}. */
  private static Checkpoint counts(Checkpoint c, double count) {
    Map<String, Object> opt = new LinkedHashMap<>();
    c.optState().forEach((k, v) -> opt.put(k, k.endsWith("#count") ? new double[] {count} : v));
    return new Checkpoint(c.configHash(), c.widths(), c.epoch(), c.stepsPerEpoch(), c.params(), opt, c.history());
  }

  private static Checkpoint with31Steps(Checkpoint c) {
    Map<String, Object> opt = new LinkedHashMap<>();
    c.optState().forEach((k, v) -> opt.put(k, k.endsWith("#count") ? new double[] {2 * 31} : v));
    return new Checkpoint(HASH, c.widths(), 2, 31, c.params(), opt, c.history());
  }

  private static EpochRecord rec(EpochRecord r, double loss, double error, double seconds) {
    return new EpochRecord(r.epoch(), loss, error, r.validationLoss(), r.validationError(), r.testLoss(),
        r.testError(), seconds, r.evalSeconds(), r.kappaClamped());
  }

  /** Lengths are bounded by the bytes left in the file before anything is allocated. */
  @Test
  void hugeLengthsAreRefusedWithoutAllocating(@TempDir Path tmp) throws IOException {
    Path ckpt = checkpoint(tmp, momentum());
    byte[] valid = Files.readAllBytes(ckpt);
    int paramCount = 8 + 4 + 2 + HASH.length() + 4 + 3 * 4 + 4 + 4;
    assertThat(ByteBuffer.wrap(valid, paramCount, 4).getInt()).isEqualTo(53);
    int entryCount = paramCount + 4 + 53 * 4;
    int historyCount = valid.length - 4 - 3 * (4 + 9 * 8 + 1) - 4; // records without norms: flag byte 0
    assertThat(ByteBuffer.wrap(valid, historyCount, 4).getInt()).isEqualTo(3);
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    Map<Integer, String> fields = Map.of(paramCount, "parameter count 2147483647", entryCount,
        "optimizer entry count 2147483647", historyCount, "history of 2147483647 epochs", 12 + 2 + 64,
        "width count 2147483647");
    for (var e : fields.entrySet()) {
      byte[] m = valid.clone();
      ByteBuffer.wrap(m).putInt(e.getKey(), Integer.MAX_VALUE);
      fixCrc(m);
      Files.write(ckpt, m);
      long before = mx.getCurrentThreadAllocatedBytes();
      assertThatThrownBy(() -> resume(ckpt)).hasMessageContaining(e.getValue());
      long allocated = mx.getCurrentThreadAllocatedBytes() - before;
      assertThat(allocated).as(e.getValue()).isLessThan(4L << 20);
    }
  }

  static void fixCrc(byte[] m) {
    CRC32C crc = new CRC32C();
    crc.update(m, 0, m.length - 4);
    ByteBuffer.wrap(m).putInt(m.length - 4, (int) crc.getValue());
  }

  /** The reproducers of issue 11: the stored epoch set to 100 or 2^31-1; the run refuses and names the file. */
  @Test
  void aDamagedCheckpointStopsTheRunWithItsPath(@TempDir Path tmp) throws IOException {
    Path ckpt = checkpoint(tmp, momentum());
    byte[] valid = Files.readAllBytes(ckpt);
    int epochAt = 8 + 4 + 2 + HASH.length() + 4 + 3 * 4;
    assertThat(ByteBuffer.wrap(valid, epochAt, 4).getInt()).isEqualTo(2);
    for (int epoch : new int[] {100, Integer.MAX_VALUE}) {
      byte[] m = valid.clone();
      ByteBuffer.wrap(m).putInt(epochAt, epoch);
      Files.write(ckpt, m);
      assertThatThrownBy(() -> trainer(momentum(), EPOCHS, HASH).run(TrainingListener.NONE, ckpt))
          .isInstanceOf(UncheckedIOException.class)
          .hasMessageStartingWith("checkpoint " + ckpt + ": checksum mismatch")
          .hasMessageEndingWith("not resumed (delete " + ckpt + " to start the run over)");
      fixCrc(m);
      Files.write(ckpt, m);
      assertThatThrownBy(() -> trainer(momentum(), EPOCHS, HASH).run(TrainingListener.NONE, ckpt))
          .hasMessageContaining("optimizer step count '#count' is 60.0, expected " + (long) epoch * STEPS);
      // the refused checkpoint is left as it was
      assertThat(Files.readAllBytes(ckpt)).isEqualTo(m);
    }
    // a checkpoint of another config is refused too (it used to be silently trained over)
    Files.write(ckpt, valid);
    assertThatThrownBy(() -> trainer(momentum(), EPOCHS, "another").run(TrainingListener.NONE, ckpt))
        .hasMessageContaining("written for config hash " + HASH + ", this run's is another");
  }

  /** Every optimizer's checkpoint passes the checks (step counts = epoch × steps) and resumes to the same result. */
  @Test
  void everyOptimizerResumesExactly(@TempDir Path tmp) {
    Map<String, Supplier<Optimizer>> opts = new LinkedHashMap<>();
    opts.put("sgd", () -> Optimizers.sgd(0.05));
    opts.put("momentum", momentum());
    opts.put("nesterov", () -> Optimizers.sgd(0.05, 0.9, true));
    opts.put("adagrad", () -> Optimizers.adagrad(0.05));
    opts.put("path-sgd", () -> Optimizers.pathSgd(0.05, 2));
    opts.put("path-sgd momentum", () -> Optimizers.pathSgd(0.01, 2, 0.9, false));
    List<String> done = new ArrayList<>();
    for (var e : opts.entrySet()) {
      Path dir = tmp.resolve(e.getKey().replace(' ', '-'));
      RunResult full = trainer(e.getValue(), 3, HASH).run(TrainingListener.NONE, null);
      Path ckpt = dir.resolve("checkpoint.bin");
      trainer(e.getValue(), 1, HASH).run(TrainingListener.NONE, ckpt);
      RunResult resumed = trainer(e.getValue(), 3, HASH).run(TrainingListener.NONE, ckpt);
      assertThat(resumed.network().params().toArray()).as(e.getKey()).containsExactly(full.network().params()
          .toArray());
      assertThat(resumed.history()).hasSize(4);
      done.add(e.getKey());
    }
    assertThat(done).hasSize(6);
  }
}
