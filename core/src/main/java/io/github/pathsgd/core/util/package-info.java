/**
 * The bottom of core: {@link io.github.pathsgd.core.util.Rng}, the seeded, splittable random streams every other
 * package draws from (initialization, dropout, shuffling, unbalanced rescaling). Imports nothing of core.
 */
package io.github.pathsgd.core.util;
