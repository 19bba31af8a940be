package io.github.pathsgd.cli;

import io.github.pathsgd.experiments.demo.RescalingDemo;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code pathsgd demo rescaling}: the chapter's toy illustration. */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Small demonstrations (rescaling).",
      "'rescaling': one SGD step and one Path-SGD step on two equivalent",
      "parameterizations of a chain network (the chapter's Figure 2 toy example): SGD's outputs after the step",
      "differ, Path-SGD's agree."})
final class DemoCommand implements Callable<Integer> {
  @Parameters(paramLabel = "NAME", description = "the demo: rescaling")
  String name;

  @Override
  public Integer call() {
    if (!name.equals("rescaling")) {
      throw new IllegalArgumentException("unknown demo '" + name + "'; available: rescaling");
    }
    System.out.print(RescalingDemo.paperExample().table());
    System.out.println("SGD is not invariant to node-wise rescaling; Path-SGD is (Neyshabur et al., NIPS 2015).");
    return 0;
  }
}
