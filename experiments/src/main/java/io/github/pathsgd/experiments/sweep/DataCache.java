package io.github.pathsgd.experiments.sweep;

import io.github.pathsgd.data.DataException;
import io.github.pathsgd.data.DataRequest;
import io.github.pathsgd.data.DataSplits;
import io.github.pathsgd.data.Datasets;
import java.util.HashMap;
import java.util.Map;

/** Loads each distinct request once; forgets it when the last run that needs it has finished. */
final class DataCache {
  private static final class Entry {
    int remaining;
    DataSplits value;
    DataException error;
  }

  private final Map<DataRequest, Entry> entries = new HashMap<>();

  synchronized void expect(DataRequest r) {
    entries.computeIfAbsent(r, k -> new Entry()).remaining++;
  }

  DataSplits get(DataRequest r) {
    Entry e;
    synchronized (this) {
      e = entries.computeIfAbsent(r, k -> new Entry());
    }
    synchronized (e) {
      if (e.value == null && e.error == null) {
        try {
          e.value = Datasets.load(r);
        } catch (DataException ex) {
          e.error = ex;
        }
      }
      if (e.error != null) {
        throw e.error;
      }
      return e.value;
    }
  }

  synchronized void release(DataRequest r) {
    Entry e = entries.get(r);
    if (e != null && --e.remaining <= 0) {
      entries.remove(r);
    }
  }
}
