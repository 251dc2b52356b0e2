/**
 * JMESPath as Grafana evaluates it: the `jmespath` tool (tools/dex/jmespath/main.go), our command around
 * github.com/jmespath-community/go-jmespath v1.1.1 (the version Grafana's go.mod requires), which Grafana's sign-in evaluates
 * role_attribute_path, groups_attribute_path and the other *_attribute_path settings with. One run evaluates a batch.
 */
import { spawnSync } from "child_process";
import { stackBinary } from "./binaries";

export interface JmesQuery {
  expression: string;
  data: unknown;
}

/** A query's result (JSON), or the library's error (a syntax error, an unknown function). */
export type JmesAnswer = { result: unknown; error?: undefined } | { result?: undefined; error: string };

/** Evaluates queries in order: the signature the sign-in evaluation (grafana-sign-in.ts) takes. */
export type JmesSearch = (queries: JmesQuery[]) => JmesAnswer[];

/** Evaluates a batch with the jmespath tool (bounded in time); fails when the tool fails, not when a query does. */
export const jmespathSearch: JmesSearch = (queries) => {
  if (queries.length === 0) return [];
  const run = spawnSync(stackBinary("jmespath"), [], { input: JSON.stringify(queries), encoding: "utf8", timeout: 30_000 });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`jmespath exited with ${run.status}: ${run.stderr}`);
  const answers = JSON.parse(run.stdout) as Array<{ result: unknown; error?: string }>;
  if (answers.length !== queries.length) throw new Error(`jmespath answered ${answers.length} of ${queries.length} queries`);
  return answers.map((a) => (a.error ? { error: a.error } : { result: a.result ?? null }));
};
