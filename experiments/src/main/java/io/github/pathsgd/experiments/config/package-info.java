/** Run configs: strict reading, every default in one place, the config hash, and the components a config names. */
package io.github.pathsgd.experiments.config;
