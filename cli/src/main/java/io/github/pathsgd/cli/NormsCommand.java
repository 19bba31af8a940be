package io.github.pathsgd.cli;

import io.github.pathsgd.core.nn.Mlp;
import io.github.pathsgd.core.nn.ParamLayout;
import io.github.pathsgd.core.path.GroupNorms;
import io.github.pathsgd.core.path.PathNorms;
import io.github.pathsgd.experiments.io.SafeTensors;
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

/** {@code pathsgd norms MODEL}: path norms, group norms and per-layer statistics of a saved network. */
@Command(name = "norms", mixinStandardHelpOptions = true,
    description = {"Path norms, group norms and per-layer statistics of a saved model.",
      "Prints φ_1, φ_2, φ_∞, the group norms (ℓ1, ℓ2 = weight decay, per-unit max-norm μ_{2,∞}) and per-layer",
      "statistics (Frobenius and spectral norm, mean and max |w|) of a model in safetensors format.",
      "Biases count as edges from a constant-1 unit (use --no-biases to leave them out of φ and μ)."})
final class NormsCommand implements Callable<Integer> {
  @Parameters(paramLabel = "MODEL", description = "a .safetensors file written by 'pathsgd train --save-model'")
  Path model;

  @Option(names = "--json", description = "print a JSON object instead of a table")
  boolean json;

  @Option(names = "--no-biases", description = "leave the biases out of the path and group norms")
  boolean noBiases;

  @Override
  public Integer call() throws Exception {
    io.github.pathsgd.data.InputFiles.requireRegular(model, "model"); // a FIFO would block, a device never end
    Mlp net = SafeTensors.read(model).network();
    Map<String, Object> out = compute(net, !noBiases);
    if (json) {
      System.out.println(io.github.pathsgd.experiments.config.Configs.json().writeValueAsString(out));
      return 0;
    }
    @SuppressWarnings("unchecked")
    Map<String, Double> path = (Map<String, Double>) out.get("path_norm");
    @SuppressWarnings("unchecked")
    Map<String, Double> group = (Map<String, Double>) out.get("group_norms");
    System.out.println("model " + model + ": " + out.get("architecture") + ", " + out.get("parameters")
        + " parameters, biases " + (noBiases ? "excluded" : "included"));
    System.out.printf(Locale.ROOT, "path norm  φ_1 = %.6g   φ_2 = %.6g   φ_∞ = %.6g%n", path.get("1"), path.get("2"),
        path.get("inf"));
    System.out.printf(Locale.ROOT, "group norm ℓ1 = %.6g   ℓ2 = %.6g   max-norm μ_{2,∞} = %.6g%n", group.get("l1"),
        group.get("l2"), group.get("max_norm"));
    System.out.printf(Locale.ROOT, "%-6s %-12s %12s %12s %12s %12s%n", "layer", "shape", "frobenius", "spectral",
        "mean |w|", "max |w|");
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> layers = (List<Map<String, Object>>) out.get("layers");
    for (Map<String, Object> l : layers) {
      System.out.printf(Locale.ROOT, "%-6s %-12s %12.6g %12.6g %12.6g %12.6g%n", l.get("layer"), l.get("shape"),
          l.get("frobenius"), l.get("spectral"), l.get("mean_abs"), l.get("max_abs"));
    }
    return 0;
  }

  static Map<String, Object> compute(Mlp net, boolean biases) {
    ParamLayout lay = net.layout();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("architecture", lay.toString());
    out.put("parameters", lay.size());
    out.put("biases_included", biases);
    Map<String, Double> path = new LinkedHashMap<>();
    path.put("1", PathNorms.phi(net, 1, biases));
    path.put("2", PathNorms.phi(net, 2, biases));
    path.put("inf", PathNorms.phi(net, Double.POSITIVE_INFINITY, biases));
    out.put("path_norm", path);
    Map<String, Double> group = new LinkedHashMap<>();
    group.put("l1", GroupNorms.l1(net, biases));
    group.put("l2", GroupNorms.l2(net, biases));
    group.put("max_norm", GroupNorms.maxNorm(net, biases));
    out.put("group_norms", group);
    List<Map<String, Object>> layers = new ArrayList<>();
    for (int l = 0; l < lay.layers(); l++) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("layer", l);
      m.put("shape", lay.out(l) + "x" + lay.in(l));
      m.put("frobenius", GroupNorms.frobenius(net, l));
      m.put("spectral", GroupNorms.spectral(net, l));
      double sum = 0;
      double max = 0;
      int off = lay.weightOffset(l);
      for (int i = 0; i < lay.weightSize(l); i++) {
        double a = Math.abs(net.params().get(off + i));
        sum += a;
        max = Math.max(max, a);
      }
      m.put("mean_abs", sum / lay.weightSize(l));
      m.put("max_abs", max);
      layers.add(m);
    }
    out.put("layers", layers);
    return out;
  }
}
