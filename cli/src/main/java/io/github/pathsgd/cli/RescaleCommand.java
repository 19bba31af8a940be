package io.github.pathsgd.cli;

import io.github.pathsgd.core.geometry.ChannelRescaling;
import io.github.pathsgd.core.geometry.PathNorms;
import io.github.pathsgd.core.geometry.Rescaling;
import io.github.pathsgd.core.geometry.RescalingGroups;
import io.github.pathsgd.core.geometry.Unbalance;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.model.SafeTensors;
import io.github.pathsgd.train.io.AtomicFiles;
import io.github.pathsgd.train.io.OutputTarget;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pathsgd rescale MODEL --unbalance --out FILE}: writes a functionally equivalent, rescaled network, and beside
 * it the factors it applied ({@link #factorsFile(Path)}), or refuses with one line and writes nothing.
 */
@Command(name = "rescale", mixinStandardHelpOptions = true,
    description = {"Write a rescaled network that computes the same function as MODEL.",
      "Rescaling ρ_{c,v}: incoming weights and bias of hidden unit v times c,",
      "outgoing weights divided by c.",
      "--unbalance applies the paper's unbalanced rescaling: picks of hidden units,",
      "with replacement, each rescaled by 10·c (or 10^c), c ~ LogNormal(MU, SIGMA).",
      "By default round(F·width) picks within each hidden layer, F = 0.25 as in the",
      "authors' MATLAB demo (1000 + 1000 for 2×4000); --count N makes N picks over",
      "all hidden layers instead.",
      "The result is checked: if a weight or bias would overflow to infinity or",
      "underflow to zero or a subnormal float, or the outputs on 64 random inputs",
      "differ by more than 1e-4 of their largest magnitude, the command fails with",
      "one line naming the largest factor, its layer and unit, and writes nothing.",
      "Otherwise it writes FILE and, for FILE = NAME.safetensors, NAME.factors.json:",
      "the widths, the options, the seed and, per hidden layer, the product of the",
      "factors applied to each unit (divide by them to map a network back).",
      "Conv models: the picks are channels of the hidden conv and dense layers (a channel's filter and",
      "bias times c, the next layer's weights reading it divided by c); the factors file lists them per layer."})
final class RescaleCommand implements Callable<Integer> {
  @Parameters(paramLabel = "MODEL", description = "input .safetensors model")
  Path model;

  @Option(names = "--unbalance", required = true, description = "apply the paper's unbalanced rescaling")
  boolean unbalance;

  @Option(names = "--fraction", paramLabel = "F",
      description = "round(F·width) picks in each hidden layer, uniform within it (default 0.25)")
  Double fraction;

  @Option(names = "--count", paramLabel = "N",
      description = "N picks in all, uniform over all hidden units of all layers (absolute; instead of --fraction)")
  Integer count;

  @Option(names = "--factor", defaultValue = "10c", description = "10c (default) or 10^c")
  String factor;

  @Option(names = "--mu", defaultValue = "0", description = "log-normal μ (default ${DEFAULT-VALUE})")
  double mu;

  @Option(names = "--sigma", defaultValue = "1", description = "log-normal σ (default ${DEFAULT-VALUE})")
  double sigma;

  @Option(names = "--seed", defaultValue = "1", description = "seed of the picks (default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--allow-non-finite",
      description = "read a model with NaN or infinite weights (refused by default; the rescaling check then fails)")
  boolean allowNonFinite;

  @Option(names = "--out", required = true, paramLabel = "FILE", description = "output .safetensors file")
  Path out;

  /** The factors file beside a model: {@code NAME.safetensors} → {@code NAME.factors.json}, else NAME + that suffix. */
  static Path factorsFile(Path modelFile) {
    String name = modelFile.getFileName().toString();
    String stem = name.endsWith(".safetensors") ? name.substring(0, name.length() - ".safetensors".length()) : name;
    return modelFile.resolveSibling(stem + ".factors.json");
  }

  @Override
  public Integer call() throws Exception {
    Unbalance opts = options();
    Path factors = factorsFile(out);
    // both outputs are checked before any work (OutputTarget's rule)
    for (Path p : List.of(out, factors)) {
      try {
        OutputTarget.of(p);
      } catch (OutputTarget.Refused e) {
        throw new OutputTarget.Refused("--out: " + e.getMessage());
      }
    }
    io.github.pathsgd.data.InputFiles.requireRegular(model, "model"); // a FIFO would block, a device never end
    SafeTensors.Model in = SafeTensors.read(model, allowNonFinite);
    if (in.layerNet() != null) { // a network of layers: its channels are rescaled
      return rescaleLayers(in.layerNet(), in.metadata(), opts, factors);
    }
    LayerNet net = in.network();
    LayerNet before = net.copy();
    DenseChain lay = net.chain();
    // refuses (Rescaling.Refused, one line) before anything is written
    double[][] f = Rescaling.unbalanceChecked(net, opts, new Rng(seed));
    Rescaling.Verification v = Rescaling.verify(before, net, f,
        Rescaling.randomInputs(lay.inputs(), Rescaling.CHECK_ROWS, new Rng(seed).split("check")),
        Rescaling.CHECK_ROWS);

    AtomicFiles.writeString(factors, Configs.json().writeValueAsString(factorsJson(lay, opts, f)) + "\n");
    SafeTensors.write(net, out, Map.of("pathsgd_rescaled_from", model.getFileName().toString(),
        "pathsgd_unbalance", metadata(opts), "pathsgd_factors", factors.getFileName().toString()));
    System.out.printf(Locale.ROOT, "wrote %s and %s: %s, path norm φ_2 %.6g -> %.6g, max output difference on %d "
        + "random inputs %.3g (tolerance %.3g), largest factor %.3g at hidden layer %d, unit %d%n", out,
        factors.getFileName(), lay, PathNorms.phi(before, 2), PathNorms.phi(net, 2), Rescaling.CHECK_ROWS,
        v.maxDifference(), v.tolerance(), v.largestFactor(), v.layer(), v.unit());
    return 0;
  }

  /**
   * {@link #call} for a network of layers: groups of tied channels are picked ({@link RescalingGroups}: a channel of a
   * hidden layer with every unit an identity skip ties to it).
   */
  private Integer rescaleLayers(LayerNet net, Map<String, String> meta, Unbalance opts, Path factors)
      throws Exception {
    LayerNet before = net.copy();
    RescalingGroups groups = RescalingGroups.of(net.layers());
    double[][] f = ChannelRescaling.unbalanceChecked(net, opts, new Rng(seed)); // refuses before anything is written
    Rescaling.Verification v = ChannelRescaling.verify(before, net, f,
        Rescaling.randomInputs(net.inputs(), Rescaling.CHECK_ROWS, new Rng(seed).split("check")),
        Rescaling.CHECK_ROWS);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("format", "pathsgd-rescaling-factors");
    m.put("version", 1);
    m.put("model", out.getFileName().toString());
    m.put("source", model.getFileName().toString());
    m.put("layers", meta.get(SafeTensors.LAYERS));
    m.put("input_shape", meta.get(SafeTensors.INPUT_SHAPE));
    m.put("options", metadata(opts));
    m.put("seed", seed);
    m.put("convention", "factors['layers.i'][c] is the product of the factors applied to channel c of the hidden "
        + "layer layers.i (i counts the layers with parameters): its filter or row layers.i.weight[c] and "
        + "layers.i.bias[c] were multiplied by it, the weights of the next layer with parameters that read channel c "
        + "divided by it. ChannelRescaling.scaleAll with these factors maps the source to the model (to float "
        + "rounding); with their reciprocals it maps the model back." + (groups.families().stream().anyMatch(
            fam -> fam.skips() > 0) ? " Across a residual block's identity skip the channel is tied to the block's "
                + "output channel c: the block's last inner layer's row c (layers.j.f.last.weight[c], .bias[c]) was "
                + "multiplied too, and its first inner layer's weights reading channel c divided. Inner layers of "
                + "a block are keyed layers.j.f.k." : ""));
    Map<String, double[]> fs = new LinkedHashMap<>();
    for (RescalingGroups.Family fam : groups.families()) {
      fs.put(fam.tensors(), f[fam.flat()]);
    }
    m.put("factors", fs);
    AtomicFiles.writeString(factors, Configs.json().writeValueAsString(m) + "\n");
    SafeTensors.write(net, out, Map.of("pathsgd_rescaled_from", model.getFileName().toString(),
        "pathsgd_unbalance", metadata(opts), "pathsgd_factors", factors.getFileName().toString()));
    System.out.printf(Locale.ROOT, "wrote %s and %s: %s, path norm φ_2 %.6g -> %.6g, max output difference on %d "
        + "random inputs %.3g (tolerance %.3g), largest factor %.3g at %s, channel %d%n", out,
        factors.getFileName(), meta.get(SafeTensors.LAYERS), PathNorms.phi(before.layers(), before.params(), 2, true),
        PathNorms.phi(net.layers(), net.params(), 2, true), Rescaling.CHECK_ROWS, v.maxDifference(), v.tolerance(),
        v.largestFactor(), v.unit() < 0 ? "no layer" : groups.family(v.layer()).tensors(), v.unit());
    return 0;
  }

  private Unbalance options() {
    if (fraction != null && count != null) {
      throw new IllegalArgumentException("--fraction and --count: give one of them, not both");
    }
    if (fraction != null && (!(fraction >= 0) || Double.isInfinite(fraction))) {
      throw new IllegalArgumentException("--fraction: expected a finite fraction >= 0 of each hidden layer, got "
          + fraction);
    }
    if (count != null && count < 0) {
      throw new IllegalArgumentException("--count: expected >= 0, got " + count);
    }
    Unbalance.FactorForm form;
    try {
      form = Unbalance.FactorForm.parse(factor); // the one parser of 10c / 10^c
    } catch (IllegalArgumentException e) {
      String m = String.valueOf(e.getMessage());
      throw new IllegalArgumentException("--factor: " + m.substring(m.indexOf(": ") + 2), e);
    }
    if (!Double.isFinite(mu)) {
      throw new IllegalArgumentException("--mu: expected a finite number, got " + mu);
    }
    if (!(sigma >= 0) || Double.isInfinite(sigma)) {
      throw new IllegalArgumentException("--sigma: expected a finite number >= 0, got " + sigma);
    }
    Unbalance.Density d = count != null ? new Unbalance.Total(count)
        : new Unbalance.PerLayer(fraction != null ? fraction : Unbalance.DEFAULT_FRACTION);
    return new Unbalance(d, form, mu, sigma);
  }

  private String metadata(Unbalance o) {
    String d = o.density() instanceof Unbalance.PerLayer p ? "fraction=" + p.fraction()
        : "count=" + ((Unbalance.Total) o.density()).count();
    return d + ",factor=" + o.form().label() + ",mu=" + o.mu() + ",sigma=" + o.sigma() + ",seed=" + seed;
  }

  /** The factors file's content; see the command's description and docs/conventions.md. */
  private Map<String, Object> factorsJson(DenseChain lay, Unbalance o, double[][] f) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("format", "pathsgd-rescaling-factors");
    m.put("version", 1);
    m.put("model", out.getFileName().toString());
    m.put("source", model.getFileName().toString());
    m.put("widths", lay.widths());
    Map<String, Object> opt = new LinkedHashMap<>();
    if (o.density() instanceof Unbalance.PerLayer p) {
      opt.put("density", "per_layer");
      opt.put("fraction", p.fraction());
      opt.put("picks", p.picks(lay));
    } else {
      opt.put("density", "total");
      opt.put("count", ((Unbalance.Total) o.density()).count());
    }
    opt.put("factor", o.form().label());
    opt.put("mu", o.mu());
    opt.put("sigma", o.sigma());
    m.put("options", opt);
    m.put("seed", seed);
    m.put("convention", "factors[k][v] is the product of the factors applied to unit v of hidden layer k+1 (width "
        + "widths[k+1]): row v of layers.k.weight and layers.k.bias[v] were multiplied by it, column v of "
        + "layers.(k+1).weight divided by it. Rescaling.scaleAll with these factors maps the source to the model "
        + "(to float rounding); with their reciprocals it maps the model, or a network trained from it, back.");
    List<double[]> fs = new ArrayList<>();
    for (int l = 1; l < lay.layers(); l++) {
      fs.add(f[l]);
    }
    m.put("factors", fs);
    return m;
  }
}
