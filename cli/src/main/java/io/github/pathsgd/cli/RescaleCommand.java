package io.github.pathsgd.cli;

import io.github.pathsgd.core.nn.Mlp;
import io.github.pathsgd.core.path.Equivalence;
import io.github.pathsgd.core.path.PathNorms;
import io.github.pathsgd.core.path.Rescaling;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.experiments.io.SafeTensors;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pathsgd rescale MODEL --unbalance --out FILE}: writes a functionally equivalent, rescaled network. */
@Command(name = "rescale", mixinStandardHelpOptions = true,
    description = {"Write a rescaled network that computes the same function as MODEL.",
      "Rescaling ρ_{c,v}: incoming weights and bias of hidden unit v times c, outgoing weights divided by c.",
      "--unbalance applies the paper's unbalanced rescaling: COUNT picks of hidden units, uniformly with replacement",
      "over all hidden layers, each rescaled by 10·c (or 10^c) with c ~ LogNormal(MU, SIGMA).",
      "The command checks the equivalence on random inputs and prints the path norms before and after."})
final class RescaleCommand implements Callable<Integer> {
  @Parameters(paramLabel = "MODEL", description = "input .safetensors model")
  Path model;

  @Option(names = "--unbalance", required = true, description = "apply the paper's unbalanced rescaling")
  boolean unbalance;

  @Option(names = "--count", defaultValue = "2000", description = "hidden units picked (default ${DEFAULT-VALUE})")
  int count;

  @Option(names = "--factor", defaultValue = "10c", description = "10c (default) or 10^c")
  String factor;

  @Option(names = "--mu", defaultValue = "0", description = "log-normal μ (default ${DEFAULT-VALUE})")
  double mu;

  @Option(names = "--sigma", defaultValue = "1", description = "log-normal σ (default ${DEFAULT-VALUE})")
  double sigma;

  @Option(names = "--seed", defaultValue = "1", description = "seed of the picks (default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--out", required = true, paramLabel = "FILE", description = "output .safetensors file")
  Path out;

  @Override
  public Integer call() throws Exception {
    if (!factor.equals("10c") && !factor.equals("10^c")) {
      throw new IllegalArgumentException("--factor: expected 10c or 10^c, got '" + factor + "'");
    }
    SafeTensors.Model in = SafeTensors.read(model);
    Mlp net = in.network();
    Mlp before = net.copy();
    Rescaling.unbalance(net, new Rescaling.Unbalance(count,
        factor.equals("10c") ? Rescaling.FactorForm.TEN_TIMES_C : Rescaling.FactorForm.TEN_TO_THE_C, mu, sigma),
        new Rng(seed));
    int B = 64;
    float[] x = new float[B * net.layout().inputs()];
    Rng r = new Rng(seed ^ 0x5EED);
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextFloat();
    }
    double diff = Equivalence.maxOutputDifference(before, net, x, B);
    float[] ref = Equivalence.outputs(before, x, B);
    double scale = 0;
    for (float v : ref) {
      scale = Math.max(scale, Math.abs(v));
    }
    SafeTensors.write(net, out, Map.of("pathsgd_rescaled_from", model.getFileName().toString(),
        "pathsgd_unbalance", "count=" + count + ",factor=" + factor + ",mu=" + mu + ",sigma=" + sigma + ",seed=" + seed));
    System.out.printf(Locale.ROOT, "wrote %s: %s, path norm φ_2 %.6g -> %.6g, max output difference on %d random inputs"
        + " %.3g (outputs up to %.3g)%n", out, net.layout(), PathNorms.phi(before, 2), PathNorms.phi(net, 2), B, diff,
        scale);
    return 0;
  }
}
