/** Every benchmark: the step, machine and read timings of {@code pathsgd bench}, and the JMH benchmarks. */
package io.github.pathsgd.bench;
