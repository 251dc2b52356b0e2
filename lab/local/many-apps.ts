/** Apps by the hundred, as a stack config lists them: for the scale test and `npm run bench`. */

/**
 * `n` apps as a config lists them: Services in twenty namespaces and some URLs, under three
 * naming schemes (the defaults, a prefixed one, and one with its own label names), some with
 * objectives of their own.
 */
export function manyApps(n: number): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, i) => ({
    name: `app-${i}`,
    ...(i % 10 === 9
      ? { url: `http://app-${i}.example.internal:8080/metrics` }
      : { namespace: `team-${i % 20}`, service: `app-${i}`, ...(i % 2 ? { port: "http" } : { targetPort: 8080 }) }),
    ...(i % 3 === 1 ? { metrics: { requests: "shop_http_requests_total", duration: "shop_http_request_duration_seconds" } } : {}),
    ...(i % 3 === 2 ? { metrics: { statusLabel: "code", routeLabel: "handler", methodLabel: "verb" } } : {}),
    ...(i % 7 === 0 ? { slo: { availability: 99.5, minRequestsPerSecond: 1 }, alerts: { errorRatePercent: 2 } } : {}),
  }));
}
