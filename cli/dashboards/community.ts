/**
 * A community dashboard, as grafana.com and Grafana's "Export for sharing externally" write it,
 * mapped onto the stack's provisioned datasources (`npm run dashboard:import`,
 * cli/dashboard-import.ts). Grafana's import dialog asks for each `__inputs` entry and
 * substitutes the answer into the JSON; provisioning has no dialog, so here:
 *
 * - each `__inputs` datasource maps by its plugin (prometheus, loki, alertmanager, jaeger) to the
 *   datasource of the stack's fixed uid, and every `${DS_…}` / `$DS_…` reference to it, as a string
 *   or as { type, uid }, in panels, their targets, template variables and annotations, becomes that
 *   { type, uid };
 * - a datasource variable named like an input (or `DS_…`, the export's convention) is what Grafana's
 *   import replaces: it is removed and its references map as the input's; any other datasource
 *   variable is kept, its references typed as it is, its selection cleared;
 * - a `constant` input becomes its value wherever `${NAME}` appears;
 * - a library panel whose model the export carries (`__elements`) is inlined;
 * - a reference to another instance's uid of a plugin the stack provides maps to the stack's uid;
 *   a row's `null` datasource goes, a panel's `null` (Grafana's default datasource) becomes
 *   Prometheus, the stack's default; the built-in annotation uses Grafana's own datasource.
 *
 * What cannot be mapped is refused, all of it at once: an input or variable of a plugin the stack
 * has no datasource for (naming the input, the panels that use it and what the stack provides),
 * any other reference that would resolve to nothing, a library panel without its model.
 */
import { JsonObject, PROVISIONED_DATASOURCES, asArray, asString, isObject, templateVariables, variableNameOfUid, walkPanels } from "./files";
import { clearDatasourceSelections, dropInstanceFields } from "./repository-form";

/** What cannot be imported: the message says what and why; the command exits 1. */
export class ImportRefused extends Error {}

interface DatasourceRef {
  type: string;
  uid: string;
}

/** Plugin type -> the stack's datasource of it. */
const STACK_BY_PLUGIN: ReadonlyMap<string, DatasourceRef> = new Map(
  Object.entries(PROVISIONED_DATASOURCES).map(([uid, type]) => [type, { type, uid }]),
);
/** The provisioned datasources' names (components/grafana/provisioning.ts), which older exports reference as plain strings. */
const STACK_BY_NAME: Readonly<Record<string, string>> = { Prometheus: "prometheus", Loki: "loki", Alertmanager: "alertmanager", Traces: "jaeger" };
const stackName = (plugin: string): string => Object.entries(STACK_BY_NAME).find(([, type]) => type === plugin)?.[0] ?? plugin;
/** Grafana's default datasource in the stack (`isDefault`): what a panel's `null` datasource means. */
const DEFAULT_PLUGIN = "prometheus";
/** What the stack provides, for the messages. */
export const STACK_PROVIDES = [...STACK_BY_PLUGIN.values()].map((d) => `${d.type} (uid ${d.uid})`).join(", ");

export interface MappedDashboard {
  dashboard: JsonObject;
  /** What was mapped, with how many references. */
  mapped: string[];
  /** What was removed. */
  dropped: string[];
  /** What the user should look at. */
  warnings: string[];
}

interface UnknownInput {
  label: string;
  plugin: string;
  pluginName?: string;
  usedBy: string[];
}

/** The dashboard of a file: the dashboard itself, or an API answer's `dashboard`. */
export function dashboardOf(parsed: unknown, shownAs: string): JsonObject {
  if (!isObject(parsed)) throw new ImportRefused(`${shownAs} is not a dashboard: it is not a JSON object`);
  if (isObject(parsed.dashboard) && !("panels" in parsed)) return parsed.dashboard;
  if (!Array.isArray(parsed.panels)) {
    throw new ImportRefused(
      Array.isArray(parsed.rows)
        ? `${shownAs} is a dashboard of before Grafana 5 (rows instead of panels): open it in a Grafana once, which migrates it, and export that`
        : `${shownAs} is not a dashboard: it has no panels`,
    );
  }
  return parsed;
}

/** Replaces `${NAME}` and `$NAME` of every string of a JSON tree; returns the tree and how many strings changed. */
function substituteConstant(node: unknown, name: string, value: string): { node: unknown; count: number } {
  let count = 0;
  const pattern = new RegExp(`\\$\\{${name}\\}|\\$${name}(?![\\w])`, "g");
  const walk = (n: unknown): unknown => {
    if (typeof n === "string") {
      const out = n.replace(pattern, () => value);
      if (out !== n) count++;
      return out;
    }
    if (Array.isArray(n)) return n.map(walk);
    if (isObject(n)) return Object.fromEntries(Object.entries(n).map(([k, v]) => [k, walk(v)]));
    return n;
  };
  return { node: walk(node), count };
}

/** The first refId of A..Z, then R27, R28, ... that a panel does not use yet (and takes it). */
function nextRefId(used: Set<string | undefined>): string {
  for (let i = 0; ; i++) {
    const id = i < 26 ? String.fromCharCode(65 + i) : `R${i + 1}`;
    if (!used.has(id)) {
      used.add(id);
      return id;
    }
  }
}

/** The community dashboard mapped onto the stack (see the module comment). Pure; throws ImportRefused. */
export function mapCommunityDashboard(source: JsonObject): MappedDashboard {
  let dashboard = structuredClone(source);
  const mapped = new Map<string, number>();
  const note = (what: string) => mapped.set(what, (mapped.get(what) ?? 0) + 1);
  const dropped: string[] = [];
  const warnings: string[] = [];
  const refused: string[] = [];

  // The inputs: datasources by plugin, constants by value.
  const fixed = new Map<string, DatasourceRef>();
  const unknownInputs = new Map<string, UnknownInput>();
  const constants: Array<[string, string]> = [];
  for (const input of asArray(dashboard.__inputs).filter(isObject)) {
    const name = asString(input.name);
    if (!name) continue;
    const plugin = asString(input.pluginId) ?? "";
    if (input.type === "datasource") {
      const stack = STACK_BY_PLUGIN.get(plugin);
      if (stack) fixed.set(name, stack);
      else unknownInputs.set(name, { label: asString(input.label) ?? name, plugin, pluginName: asString(input.pluginName), usedBy: [] });
      if (stack?.uid === "traces") warnings.push(`${name} maps to the traces datasource, which exists only with tracing.enabled`);
      if (stack?.uid === "loki") warnings.push(`${name} maps to the Loki datasource, which exists only with loki.enabled`);
    } else if (input.type === "constant") {
      constants.push([name, String(input.value ?? "")]);
    } else {
      refused.push(`__inputs ${name} is of type ${String(input.type)}, which only Grafana's import dialog can fill in`);
    }
  }
  for (const [name, value] of constants) {
    const { node, count } = substituteConstant(dashboard, name, value);
    dashboard = node as JsonObject;
    if (count > 0) mapped.set(`constant ${name} = ${JSON.stringify(value)}`, count);
  }

  // Library panels: inlined from the export's __elements, which provisioning does not create.
  const elements = isObject(dashboard.__elements) ? dashboard.__elements : {};
  const inline = (list: unknown): unknown[] =>
    asArray(list).map((item) => {
      if (!isObject(item)) return item;
      const library = isObject(item.libraryPanel) ? item.libraryPanel : undefined;
      if (library) {
        const uid = asString(library.uid) ?? "";
        const element = elements[uid];
        if (isObject(element) && isObject(element.model)) {
          note(`library panel ${uid} inlined`);
          return { ...structuredClone(element.model), id: item.id, gridPos: item.gridPos };
        }
        refused.push(`panel ${String(item.id)} "${asString(item.title) ?? ""}" is library panel ${uid}, whose model the file does not carry`);
      }
      return Array.isArray(item.panels) ? { ...item, panels: inline(item.panels) } : item;
    });
  dashboard.panels = inline(dashboard.panels);

  // Datasource variables: those standing for an input are replaced, the others kept.
  const kept = new Map<string, string>();
  const templating = isObject(dashboard.templating) ? dashboard.templating : {};
  const variables: unknown[] = [];
  for (const { variable, name } of templateVariables(dashboard)) {
    if (variable.type !== "datasource") {
      variables.push(variable);
      continue;
    }
    const plugin = asString(variable.query) ?? "";
    const stack = STACK_BY_PLUGIN.get(plugin);
    if (fixed.has(name) || unknownInputs.has(name) || name.startsWith("DS_")) {
      if (!fixed.has(name) && !unknownInputs.has(name)) {
        if (stack) fixed.set(name, stack);
        else unknownInputs.set(name, { label: asString(variable.label) ?? name, plugin, usedBy: [] });
      }
      dropped.push(`the datasource variable ${name} (the import placeholder; its references now name the datasource)`);
      continue;
    }
    if (!stack) refused.push(`variable ${name} selects a ${plugin || "(no plugin)"} datasource; the stack provides ${STACK_PROVIDES}`);
    else kept.set(name, plugin);
    const regex = asString(variable.regex) ?? "";
    if (stack && regex !== "") {
      warnings.push(`variable ${name} offers only the datasources whose name matches ${regex}: the stack's is named ${stackName(plugin)}`);
    }
    variables.push(variable);
  }
  if (Array.isArray(templating.list)) dashboard.templating = { ...templating, list: variables };

  // Every datasource reference: the same places as the repository's checks look (files.ts datasourceRefs).
  const unresolved: string[] = [];
  const resolve = (ref: unknown, where: string, kind: "row" | "panel" | "target" | "variable" | "annotation"): unknown => {
    if (ref === null || ref === undefined) {
      if (kind === "row" || kind === "target") return undefined;
      note(`a default (null) datasource -> ${DEFAULT_PLUGIN}`);
      return { ...(STACK_BY_PLUGIN.get(DEFAULT_PLUGIN) as DatasourceRef) };
    }
    const uid = typeof ref === "string" ? ref : isObject(ref) ? asString(ref.uid) : undefined;
    const type = isObject(ref) ? asString(ref.type) : undefined;
    const name = uid !== undefined ? variableNameOfUid(uid) : undefined;
    if (name !== undefined) {
      const target = fixed.get(name);
      if (target) {
        note(`\${${name}} -> ${target.type} (uid ${target.uid})`);
        return { ...target };
      }
      const plugin = kept.get(name);
      if (plugin) return { type: plugin, uid: `\${${name}}` };
      const input = unknownInputs.get(name);
      if (input) input.usedBy.push(where);
      else unresolved.push(`${where}: ${JSON.stringify(ref)} names no input and no datasource variable`);
      return ref;
    }
    if (uid !== undefined && PROVISIONED_DATASOURCES[uid] !== undefined && (type === undefined || type === PROVISIONED_DATASOURCES[uid])) {
      return { type: PROVISIONED_DATASOURCES[uid], uid };
    }
    const plugin = typeof ref === "string" ? STACK_BY_NAME[ref] : type;
    const stack = plugin !== undefined ? STACK_BY_PLUGIN.get(plugin) : undefined;
    if (stack) {
      note(`${typeof ref === "string" ? `datasource "${ref}"` : `${plugin} uid ${uid ?? "(none)"}`} -> ${stack.type} (uid ${stack.uid})`);
      return { ...stack };
    }
    unresolved.push(`${where}: ${JSON.stringify(ref)}`);
    return ref;
  };
  const place = (holder: JsonObject, where: string, kind: Parameters<typeof resolve>[2]) => {
    if (!("datasource" in holder)) return;
    const value = resolve(holder.datasource, where, kind);
    if (value === undefined) delete holder.datasource;
    else holder.datasource = value;
  };
  let rowTargets = 0;
  let emptyTargets = 0;
  for (const { panel, where } of walkPanels(dashboard)) {
    if (panel.type === "row") {
      place(panel, where, "row");
      // Grafana runs no query of a row: what an old export left there is noise.
      if ("targets" in panel) rowTargets++;
      delete panel.targets;
      continue;
    }
    place(panel, where, "panel");
    if (!Array.isArray(panel.targets)) continue;
    const refIds = new Set(panel.targets.map((t) => (isObject(t) ? asString(t.refId) : undefined)).filter((r) => r));
    panel.targets = panel.targets.filter((target) => {
      if (!isObject(target)) return true;
      if (!asString(target.refId)) {
        target.refId = nextRefId(refIds);
        note("a target without refId -> the next free one (as Grafana names it)");
      }
      if (target.datasource === undefined || target.datasource === null) {
        // A target without its own datasource runs on its panel's.
        if (isObject(panel.datasource)) {
          target.datasource = { ...panel.datasource };
          note("a target without datasource -> its panel's");
        } else delete target.datasource;
      } else place(target, `${where} target ${String(target.refId)}`, "target");
      const type = isObject(target.datasource) ? target.datasource.type : undefined;
      const empty = (type === "prometheus" || type === "loki") && (asString(target.expr) ?? "").trim() === "";
      if (empty) emptyTargets++;
      return !empty;
    });
  }
  if (rowTargets > 0) dropped.push(`the targets of ${rowTargets} row(s) (Grafana runs no query of a row)`);
  if (emptyTargets > 0) dropped.push(`${emptyTargets} target(s) without a query`);
  for (const { variable, where } of templateVariables(dashboard)) place(variable, where, "variable");
  const annotations = isObject(dashboard.annotations) ? dashboard.annotations : {};
  asArray(annotations.list).forEach((item, index) => {
    if (!isObject(item)) return;
    if (item.builtIn === 1) {
      if (!isObject(item.datasource) || item.datasource.uid !== "-- Grafana --") note("the built-in annotation -> Grafana's own datasource");
      item.datasource = { type: "grafana", uid: "-- Grafana --" };
    } else place(item, `annotation ${asString(item.name) ?? `#${index}`}`, "annotation");
  });

  for (const [name, input] of unknownInputs) {
    if (input.usedBy.length === 0) {
      dropped.push(`the unused input ${name} (${input.plugin})`);
      continue;
    }
    refused.push(
      `input ${name} ("${input.label}") is a ${input.pluginName ?? input.plugin} datasource (plugin ${input.plugin || "not given"}), which the stack does not provide ` +
        `(it provides ${STACK_PROVIDES}); used by ${input.usedBy.join(", ")}`,
    );
  }
  if (unresolved.length > 0) {
    refused.push(
      `datasource references that would resolve to nothing here (the stack provides ${STACK_PROVIDES}):\n    ${unresolved.join("\n    ")}`,
    );
  }
  if (refused.length > 0) throw new ImportRefused(`cannot import:\n  ${refused.join("\n  ")}`);

  const removed = dropInstanceFields(dashboard);
  if (removed.length > 0) dropped.unshift(...removed.map((f) => `${f}${f === "id" || f === "version" ? " (set to what provisioning expects)" : ""}`));
  clearDatasourceSelections(asArray(isObject(dashboard.templating) ? dashboard.templating.list : undefined));

  const left = [...new Set(JSON.stringify(dashboard).match(/\$\{?DS_\w+\}?/g) ?? [])];
  if (left.length > 0) warnings.push(`${left.join(", ")} still appear outside a datasource field (a link or a text?): look at them`);
  return { dashboard, mapped: [...mapped].map(([what, n]) => `${what}: ${n}`), dropped, warnings };
}
