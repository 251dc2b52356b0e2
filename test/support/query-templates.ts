/**
 * Label and annotation templates of a tenant's alert, each with what Prometheus makes of it when
 * the only series is `shop_http_requests_total{namespace="shop"} 42` and the alert's own series
 * carries `query="fielded"`: a template that calls `query` reads shop's 42, one that does not
 * prints its text. test/e2e/tenant-rules.test.ts holds the expansions to the deployed promtool;
 * test/preflight/tenant-rules.test.ts holds the stack's check to the same split.
 */
export interface QueryTemplate {
  name: string;
  template: string;
  /** Whether the template calls the function `query`. */
  calls: boolean;
  /** What Prometheus expands it to. */
  expansion: string;
}

export const SHOP_SERIES = 'shop_http_requests_total{namespace="shop"}';
export const SHOP_VALUE = 42;
/** The alert's expression: one series, labelled `query="fielded"`. */
export const ALERT_EXPR = 'label_replace(vector(1), "query", "fielded", "", "")';

export const QUERY_TEMPLATES: QueryTemplate[] = [
  {
    name: "a string with a brace before `| query` (the review's bypass)",
    template: '{{ "sum(shop_http_requests_total{namespace=\\"shop\\"})" | query | first | value }}',
    calls: true,
    expansion: "42",
  },
  {
    name: "`with query` as the command",
    template: '{{ with query "sum(shop_http_requests_total)" }}{{ . | first | value }}{{ end }}',
    calls: true,
    expansion: "42",
  },
  {
    name: "in parentheses, between trim markers",
    template: 'v= {{- (query "sum(shop_http_requests_total)" | first | value) -}} .',
    calls: true,
    expansion: "v=42.",
  },
  {
    name: "after `}}` inside a string of an earlier action",
    template:
      '{{ $q := "sum(shop_http_requests_total{path=\\"/}}\\"}) or sum(shop_http_requests_total)" }}{{ $q | query | first | value }}',
    calls: true,
    expansion: "42",
  },
  {
    name: "a raw string with braces",
    template: '{{ `sum(shop_http_requests_total{namespace="shop"})` | query | first | value }}',
    calls: true,
    expansion: "42",
  },
  {
    name: "after a character constant '}'",
    template: '{{ printf "%c%v" \'}\' ("sum(shop_http_requests_total)" | query | first | value) }}',
    calls: true,
    expansion: "}42",
  },
  {
    name: "after a comment holding `}}`",
    template: '{{/* }} */}}{{ range query "sum(shop_http_requests_total)" }}{{ .Value }}{{ end }}',
    calls: true,
    expansion: "42",
  },
  {
    name: "an action over several lines",
    template: '{{\n  "sum(shop_http_requests_total)"\n  | query\n  | first | value\n}}',
    calls: true,
    expansion: "42",
  },
  {
    name: "the word in a string literal",
    template: '{{ "sum(x) | query" }}',
    calls: false,
    expansion: "sum(x) | query",
  },
  {
    name: "the word in a string holding an escaped quote and `}} {{`",
    template: '{{ "a \\"}} {{ query" }}',
    calls: false,
    expansion: 'a "}} {{ query',
  },
  {
    name: "the word in a raw string",
    template: '{{ `query "up"` }}',
    calls: false,
    expansion: 'query "up"',
  },
  {
    name: "the word in plain text",
    template: "Run the query in Grafana for {{ $labels.query }} (query {{ `x` }})",
    calls: false,
    expansion: "Run the query in Grafana for fielded (query x)",
  },
  {
    name: "the word in a comment",
    template: '{{/* query "up" */}}ok{{- /* query */ -}}',
    calls: false,
    expansion: "ok",
  },
  {
    name: "a field and a variable named query",
    template: "{{ $query := .Labels.query }}{{ $query }}{{ $.Labels.query }}",
    calls: false,
    expansion: "fieldedfielded",
  },
];
