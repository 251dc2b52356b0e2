/**
 * Traefik v3's router rule language, for the tests: parses a rule as Traefik v3 does
 * (matcher calls combined with &&, || and !, grouped by parentheses, arguments quoted
 * with backquotes or double quotes) and refuses what v3 refuses: a matcher v3 does not
 * have (v2's `Headers`, `HostHeader`, `Query` with `key=value`...), a wrong number of
 * arguments (v2's `PathPrefix(\`/a\`, \`/b\`)`), a path that does not start with "/".
 * The matchers and their argument counts are those of Traefik v3's HTTP muxer; the
 * binary itself is not built here. `matches` evaluates Host, Path and PathPrefix for a
 * request, on the path with unreserved characters decoded, as Traefik's routing path.
 */

/** v3's HTTP matchers and how many arguments each takes. */
export const TRAEFIK_V3_MATCHERS: Record<string, readonly number[]> = {
  ClientIP: [1],
  Method: [1],
  Host: [1],
  HostRegexp: [1],
  Path: [1],
  PathRegexp: [1],
  PathPrefix: [1],
  Header: [2],
  HeaderRegexp: [2],
  Query: [1, 2],
  QueryRegexp: [1, 2],
};

export type RuleTree =
  { op: "and" | "or"; left: RuleTree; right: RuleTree } | { op: "not"; rule: RuleTree } | { op: "call"; matcher: string; args: string[] };

/** Parses a rule; throws with the reason Traefik v3 would refuse it. */
export function parseTraefikRule(rule: string): RuleTree {
  let i = 0;
  const skip = () => {
    while (i < rule.length && /\s/.test(rule[i])) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`${what} at character ${i} of ${JSON.stringify(rule)}`);
  };
  const expect = (token: string) => {
    skip();
    if (!rule.startsWith(token, i)) fail(`expected ${token}`);
    i += token.length;
  };
  const quoted = (): string => {
    skip();
    const quote = rule[i];
    if (quote !== "`" && quote !== '"') fail("expected a quoted argument");
    const end = rule.indexOf(quote, i + 1);
    if (end < 0) fail("unterminated argument");
    const value = rule.slice(i + 1, end);
    i = end + 1;
    return value;
  };
  const call = (): RuleTree => {
    skip();
    const name = /^[A-Za-z]+/.exec(rule.slice(i))?.[0] ?? fail("expected a matcher");
    i += name.length;
    const counts = TRAEFIK_V3_MATCHERS[name] ?? fail(`${name} is not a Traefik v3 matcher`);
    expect("(");
    const args = [quoted()];
    skip();
    while (rule[i] === ",") {
      i++;
      args.push(quoted());
      skip();
    }
    expect(")");
    if (!counts.includes(args.length)) fail(`${name} takes ${counts.join(" or ")} argument(s), got ${args.length}`);
    if (name.startsWith("Path") && name !== "PathRegexp" && !args[0].startsWith("/"))
      fail(`${name}: path ${args[0]} does not start with /`);
    return { op: "call", matcher: name, args };
  };
  const unary = (): RuleTree => {
    skip();
    if (rule[i] === "!") {
      i++;
      return { op: "not", rule: unary() };
    }
    if (rule[i] === "(") {
      i++;
      const inner = or();
      expect(")");
      return inner;
    }
    return call();
  };
  const and = (): RuleTree => {
    let left = unary();
    for (skip(); rule.startsWith("&&", i); skip()) {
      i += 2;
      left = { op: "and", left, right: unary() };
    }
    return left;
  };
  const or = (): RuleTree => {
    let left = and();
    for (skip(); rule.startsWith("||", i); skip()) {
      i += 2;
      left = { op: "or", left, right: and() };
    }
    return left;
  };
  const tree = or();
  skip();
  if (i !== rule.length) fail("unexpected text");
  return tree;
}

/** Percent-decodes the unreserved characters of a path (RFC 3986 2.3), as Traefik's routing path does. */
function routingPath(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (escaped, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : escaped;
  });
}

/** Whether a request to host and path (a GET unless a method is given) matches the rule (Host, Method, Path and PathPrefix only). */
export function ruleMatches(rule: string, request: { host: string; path: string; method?: string }): boolean {
  const path = routingPath(request.path);
  const evaluate = (t: RuleTree): boolean => {
    switch (t.op) {
      case "and":
        return evaluate(t.left) && evaluate(t.right);
      case "or":
        return evaluate(t.left) || evaluate(t.right);
      case "not":
        return !evaluate(t.rule);
      case "call":
        if (t.matcher === "Host") return t.args[0].toLowerCase() === request.host.toLowerCase();
        if (t.matcher === "Method") return t.args[0] === (request.method ?? "GET");
        if (t.matcher === "Path") return path === t.args[0];
        if (t.matcher === "PathPrefix") return path.startsWith(t.args[0]);
        throw new Error(`the test does not evaluate ${t.matcher}`);
    }
  };
  return evaluate(parseTraefikRule(rule));
}
