package io.github.pathsgd.experiments.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.model.SafeTensors;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same network and metadata give the same model file, byte for byte, in every process: the header's metadata keys
 * are written in sorted order, whatever the order of the caller's map ({@code Map.of} iterates in an order that differs
 * from one JVM to the next), so {@code --init-model}, which hashes the file into the run id, gives equal models equal
 * run ids.
 */
class SafeTensorsReproducibleTest {
  /** The caller metadata of a sweep run's model (as SweepTasks.saveModel writes it), in a Map.of. */
  static Map<String, String> metadata() {
    return Map.of("pathsgd_run_id", "0123456789ab", "pathsgd_dataset", "mnist-sample", "pathsgd_optimizer",
        "path-sgd", "pathsgd_epochs", "3", "pathsgd_status", "completed", "pathsgd_note", "same in every JVM");
  }

  static LayerNet network() {
    return Init.balanced(new DenseChain(784, 8, 10), new Rng(11));
  }

  /** Writes {@link #network()} with {@link #metadata()} to args[0]: the second JVM's side of the test. */
  public static final class Writer {
    public static void main(String[] args) {
      SafeTensors.write(network(), Path.of(args[0]), metadata());
    }
  }

  static List<String> metadataKeys(Path f) throws Exception {
    byte[] b = Files.readAllBytes(f);
    int n = (int) ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    JsonNode h = Configs.json().readTree(new String(b, 8, n, StandardCharsets.UTF_8));
    List<String> keys = new ArrayList<>();
    h.path("__metadata__").fieldNames().forEachRemaining(keys::add);
    Iterator<String> all = h.fieldNames();
    assertThat(all.next()).isEqualTo("__metadata__"); // first, then the tensors in layer order
    List<String> rest = new ArrayList<>();
    all.forEachRemaining(rest::add);
    assertThat(rest).containsExactly("layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias");
    return keys;
  }

  @Test
  void theMetadataKeysAreWrittenSortedWhateverTheMapOrder(@TempDir Path tmp) throws Exception {
    Map<String, String> forward = new LinkedHashMap<>();
    Map<String, String> backward = new LinkedHashMap<>();
    List<String> keys = new ArrayList<>(new java.util.TreeSet<>(metadata().keySet()));
    keys.forEach(k -> forward.put(k, metadata().get(k)));
    for (int i = keys.size() - 1; i >= 0; i--) {
      backward.put(keys.get(i), metadata().get(keys.get(i)));
    }
    Path a = tmp.resolve("a.safetensors");
    Path b = tmp.resolve("b.safetensors");
    SafeTensors.write(network(), a, forward);
    SafeTensors.write(network(), b, backward);
    assertThat(b).hasBinaryContent(Files.readAllBytes(a));
    assertThat(metadataKeys(a)).containsExactly("format", "pathsgd_data_sha256", "pathsgd_dataset",
        "pathsgd_epochs", "pathsgd_note", "pathsgd_optimizer", "pathsgd_run_id", "pathsgd_status", "pathsgd_widths");
    assertThat(SafeTensors.read(b).metadata()).containsEntry("pathsgd_note", "same in every JVM");
  }

  @Test
  void twoJvmsWriteTheSameBytesAndInitModelGivesThemOneRunId(@TempDir Path tmp) throws Exception {
    Path here = tmp.resolve("here.safetensors");
    Path there = tmp.resolve("there.safetensors");
    SafeTensors.write(network(), here, metadata());
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process p = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
        Writer.class.getName(), there.toString()).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("second JVM finished").isTrue();
    assertThat(p.exitValue()).as(output).isZero();
    assertThat(there).hasBinaryContent(Files.readAllBytes(here));
    assertThat(metadataKeys(there)).isSorted();

    // --init-model hashes the file's content into the run id: equal models, one run id
    String idHere = runId(here);
    assertThat(runId(there)).isEqualTo(idHere).matches("[0-9a-f]{12}");
  }

  static String runId(Path model) {
    TrainConfig cfg = Configs.fromMap(new LinkedHashMap<>(Map.of("dataset", "mnist-sample", "init_model",
        model.toString())), TrainConfig.class);
    return ConfigHash.runId(Components.bind(cfg).config().resolve());
  }
}
