/** A sweep's results read back from its files, its figures (XChart), its report and its claim checks. */
package io.github.pathsgd.report;
