#!/usr/bin/env bash
# The project's test command (README, "Quick start"; .ci/run calls exactly this): every module's tests, jars and
# Javadoc (mvn verify), then examples/djl-demo built and run against the published coordinates (DjlDemoIT): djl and
# what it needs are installed into a repository inside target/, never into ~/.m2 (docs/djl.md).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -ntp verify
repo="$PWD/target/examples-m2"
mvn -B -ntp -q install -DskipTests -Dmaven.javadoc.skip=true -Dmaven.repo.local="$repo" -pl djl -am
mvn -B -ntp -q -pl djl test -Dmaven.repo.local="$repo" -Dpathsgd.libraryTest.repo="$repo" -Dtest=DjlDemoIT \
  -Dsurefire.failIfNoSpecifiedTests=false
