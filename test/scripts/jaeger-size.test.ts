/** npm run jaeger-size (scripts/jaeger-size.ts): what it reads of Jaeger's metrics, and the span count a request makes. */
import { SPANS_PER_REQUEST, badgerSeries } from "../../scripts/jaeger-size";

test("only Jaeger's Badger series are kept, by name and labels, comments and other series left out", () => {
  const text = [
    "# HELP jaeger_storage_badger_size_bytes_lsm x",
    "# TYPE jaeger_storage_badger_size_bytes_lsm gauge",
    'jaeger_storage_badger_size_bytes_lsm{kind="badger",role="tracestore"} 1.7751984e+07',
    'jaeger_storage_badger_size_bytes_vlog{kind="badger",role="tracestore"} 2147483646',
    'otelcol_exporter_sent_spans_total{exporter="jaeger_storage_exporter"} 77707',
    "",
  ].join("\n");
  expect(badgerSeries(text)).toEqual({
    'jaeger_storage_badger_size_bytes_lsm{kind="badger",role="tracestore"}': 17751984,
    'jaeger_storage_badger_size_bytes_vlog{kind="badger",role="tracestore"}': 2147483646,
  });
});

test("a request of the app makes 3.7 spans: the rate asked in spans/s becomes requests/s by it", () => {
  expect(SPANS_PER_REQUEST).toBeCloseTo(3.7, 5);
});
