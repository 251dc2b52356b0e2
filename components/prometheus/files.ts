/** The files Prometheus reads, as the component writes them: YAML with a header saying where it comes from, packed into ConfigMaps under the API server's limit. */
import * as YAML from "yaml";
import { CONFIGMAP_DATA_BUDGET } from "./args";

export const YAML_OPTIONS = { lineWidth: 0, aliasDuplicateObjects: false } as YAML.ToStringOptions;

/** Serialises a config object with a header saying where it comes from. */
export function toYaml(value: unknown, header: string): string {
  const doc = new YAML.Document(value, { aliasDuplicateObjects: false });
  doc.commentBefore = ` ${header}`;
  return doc.toString(YAML_OPTIONS);
}

/** Bytes one entry of a ConfigMap's data takes in the object as the API server receives it (JSON, escapes included). */
export function configMapEntryBytes(key: string, content: string): number {
  return Buffer.byteLength(JSON.stringify(key), "utf8") + Buffer.byteLength(JSON.stringify(content), "utf8") + 2;
}

/** One ConfigMap to create: its name and data. */
export interface ConfigMapPlan {
  name: string;
  data: Record<string, string>;
}

/** The files that alone weigh more than one ConfigMap of `budget` serialised bytes of data holds, with what each weighs. */
export function oversizedFiles(
  files: ReadonlyArray<[string, string]>,
  budget: number = CONFIGMAP_DATA_BUDGET,
): Array<{ key: string; bytes: number }> {
  return files.map(([key, content]) => ({ key, bytes: configMapEntryBytes(key, content) })).filter(({ bytes }) => bytes > budget);
}

/**
 * Files, in order, packed into ConfigMaps of at most `budget` serialised bytes of data, named
 * `<base>`, `<base>-2`, ...: a new map only when the last one is full, so that appending files
 * (apps) adds at most a map at the end. A file that alone exceeds the budget (oversizedFiles)
 * gets a map of its own, over the budget: the component refuses such files first (plan.ts).
 */
export function packConfigMaps(base: string, files: Array<[string, string]>, budget: number = CONFIGMAP_DATA_BUDGET): ConfigMapPlan[] {
  const plans: Array<ConfigMapPlan & { used: number }> = [];
  for (const [key, content] of files) {
    const bytes = configMapEntryBytes(key, content);
    let last = plans[plans.length - 1];
    if (!last || last.used + bytes > budget) {
      last = { name: plans.length === 0 ? base : `${base}-${plans.length + 1}`, data: {}, used: 0 };
      plans.push(last);
    }
    last.data[key] = content;
    last.used += bytes;
  }
  return plans.map(({ name, data }) => ({ name, data }));
}

/**
 * Items, in order, cut into runs whose rendering (`render` of the run) stays within `budget`
 * serialised bytes. Each item's share is measured alone (a run's rendering is the sum of its
 * items' and a fixed part), so that the cut takes linear time for thousands of items; a run
 * whose rendering still exceeds the budget is cut again.
 */
export function cutByBytes<T>(items: T[], render: (run: T[]) => string, budget: number): T[][] {
  const size = (run: T[]) => configMapEntryBytes("", render(run));
  const fixed = size([]);
  const runs: T[][] = [];
  let run: T[] = [];
  let used = fixed;
  for (const item of items) {
    const share = size([item]) - fixed;
    if (run.length > 0 && used + share > budget) {
      runs.push(run);
      run = [];
      used = fixed;
    }
    run.push(item);
    used += share;
  }
  if (run.length > 0 || runs.length === 0) runs.push(run);
  return runs.flatMap((r) =>
    r.length > 1 && size(r) > budget
      ? cutByBytes(r.slice(0, r.length >> 1), render, budget).concat(cutByBytes(r.slice(r.length >> 1), render, budget))
      : [r],
  );
}
