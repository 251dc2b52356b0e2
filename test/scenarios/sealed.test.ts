/**
 * No secret value in plain text, anywhere the program puts things: the sweep renders the
 * production stack under the mocks with every secret key (SECRET_KEYS, and the provider's
 * `cloudflare:apiToken`) set to a distinct recognisable value, in config that uses every one
 * of them, and looks for each value outside Pulumi secrets in every recorded registration
 * (components, custom resources, reads, and providers: the journal keeps what the runner's
 * result filters out, though the program registers none itself, its providers being the
 * engine's defaults), every component's registered outputs, the stack outputs, the warnings,
 * the summary and every file the offline render writes. Then, secrets shown, it reads every
 * ConfigMap and every container's command, args and env values for every secret's value: what a
 * pod spec or a ConfigMap holds is readable by whoever may read them, wrapped as a secret or not.
 *
 * The legacy receiver keys and named receivers exclude each other, so the sweep renders two
 * stacks: one with the default tree, one with a team's routing. A secret key added to the
 * config is swept without a change here, and fails the "set and used" test until a variant
 * below sets it in config that uses it.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { SECRET_KEYS } from "../../config";
import { SALT_OUTPUT } from "../../preflight/stack-salt";
import { nodeExporterCredentials } from "../../components/exporters/node-exporter";
import { Rendered, reveal, summary, writeRender } from "../../cli/render";
import { offlineStackSalt, renderStack } from "../../cli/render-stack";
import { RecordedResource } from "../../cli/runner";
import { SECRET_VARIANTS, SecretVariant, encryptedConfig, sealedValue, topKey } from "../support/every-secret";

/** Provider keys that hold credentials: the program never reads them, the provider does. */
const PROVIDER_SECRET_KEYS = ["cloudflare:apiToken"] as const;

/** The recognisable part of a swept value: letters and digits only, so that no encoding (JSON, URL, YAML) changes it. */
function mark(key: string): string {
  return `Sealed${key.replace(/[^A-Za-z0-9]/g, "")}Q7x`;
}

interface Variant extends SecretVariant {
  /** Secret values by path as `pulumi config set --path` names them (full key for a provider's), each carrying its mark. */
  values: Record<string, string>;
}
/** The default tree (legacy receiver keys) and a team's routing (named receivers of every kind, email through SMTP). */
const VARIANTS: Variant[] = SECRET_VARIANTS.map((v) => ({
  ...v,
  values: Object.fromEntries(v.secrets.map((p) => [p, sealedValue(p, mark(p))])),
}));

/** A stack file as a user writes one: the production file, the variant's plain config, and each secret as a `secure:` value. */
function stackFile(variant: Variant, dir: string): string {
  const file = path.join(dir, "Pulumi.production.yaml");
  fs.writeFileSync(file, YAML.stringify({ config: encryptedConfig(variant) }));
  return file;
}

/** Every text written by `npm run render` for a render: the files under out/<stack>/, by relative path. */
function writtenFiles(rendered: Rendered, dir: string): Record<string, string> {
  writeRender(rendered, dir);
  const files: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else files[path.relative(dir, p)] = fs.readFileSync(p, "utf8");
    }
  };
  walk(dir);
  return files;
}

interface Sweep {
  variant: Variant;
  journal: RecordedResource[];
  redacted: Rendered;
  /** Where the program put things, secrets hidden: a label naming the place, and its text. */
  places: Array<{ where: string; text: string }>;
  /** The same registrations (inputs, registered outputs) with secrets shown: where a value is used at all. */
  shown: Array<{ where: string; text: string }>;
}

/** The forms a leaked value could take: its mark alone (a password taken out of a DSN, say), the whole value, base64 (a Secret's `data`). */
function forms(key: string, value: string): string[] {
  return [mark(key), value, Buffer.from(value).toString("base64")];
}

async function sweep(variant: Variant): Promise<Sweep> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sealed-"));
  try {
    const journal: RecordedResource[] = [];
    const sets = Object.entries(variant.values).map(([key, value]) => `${key}=${JSON.stringify(value)}`);
    const file = stackFile(variant, dir);
    const redacted = await renderStack({ stack: "production", stackFile: file, sets, journal });
    const label = (r: RecordedResource) => `${r.custom ? "" : "component "}${r.urn}`;
    const places = [
      ...journal.map((r) => ({ where: `inputs of ${label(r)}`, text: JSON.stringify(reveal(r.inputs, false)) })),
      ...journal
        .filter((r) => r.registeredOutputs !== undefined)
        .map((r) => ({ where: `registered outputs of ${label(r)}`, text: JSON.stringify(reveal(r.registeredOutputs, false)) })),
      ...Object.entries(redacted.outputs).map(([name, value]) => ({ where: `stack output ${name}`, text: JSON.stringify(value) })),
      ...redacted.warnings.map((w, i) => ({ where: `warning ${i}`, text: w })),
      { where: "the render's summary", text: summary(redacted, "production", "out/production", redacted.config) },
      { where: "the render's placeholders", text: redacted.placeholders.join("\n") },
      ...Object.entries(writtenFiles(redacted, path.join(dir, "out"))).map(([f, text]) => ({ where: `out/production/${f}`, text })),
    ];
    const shown = journal.map((r) => ({
      where: label(r),
      text: JSON.stringify([reveal(r.inputs, true), reveal(r.registeredOutputs, true)]),
    }));
    return { variant, journal, redacted, places, shown };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface PodSpecLike {
  containers?: ContainerLike[];
  initContainers?: ContainerLike[];
}
interface ContainerLike {
  name: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string }>;
}

/**
 * With secrets shown: every ConfigMap's data, and every container's command, args and env values
 * of every pod template the program registers (Deployments, StatefulSets, DaemonSets, CronJobs).
 */
function plainPlaces(journal: RecordedResource[]): Array<{ where: string; text: string }> {
  const places: Array<{ where: string; text: string }> = [];
  for (const r of journal) {
    const inputs = reveal(r.inputs, true) as Record<string, unknown>;
    const kind = r.type.split(":").pop() ?? r.type;
    const name = (inputs.metadata as { name?: string } | undefined)?.name ?? r.urn;
    if (kind === "ConfigMap") {
      places.push({ where: `ConfigMap ${name}`, text: JSON.stringify([inputs.data ?? {}, inputs.binaryData ?? {}]) });
    }
    const pods: PodSpecLike[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (typeof node === "object" && node !== null) {
        if (Array.isArray((node as PodSpecLike).containers)) pods.push(node as PodSpecLike);
        else Object.values(node).forEach(walk);
      }
    };
    walk(inputs.spec);
    for (const pod of pods) {
      for (const c of [...(pod.containers ?? []), ...(pod.initContainers ?? [])]) {
        const at = `${kind} ${name}/${c.name}`;
        places.push({ where: `command and args of ${at}`, text: JSON.stringify([c.command ?? [], c.args ?? []]) });
        for (const e of c.env ?? []) if (e.value !== undefined) places.push({ where: `${at} env ${e.name}`, text: e.value });
      }
    }
  }
  return places;
}

let sweeps: Sweep[] = [];
beforeAll(async () => {
  sweeps = [];
  for (const variant of VARIANTS) sweeps.push(await sweep(variant));
});

describe("every secret key is swept", () => {
  test.each([...SECRET_KEYS, ...PROVIDER_SECRET_KEYS])("%s is set to a recognisable value by a variant whose config uses it", (key) => {
    const setting = sweeps.filter((s) => s.variant.secrets.some((k) => topKey(k) === key));
    expect({ key, setBy: setting.length > 0 }).toEqual({ key, setBy: true });
    for (const s of setting) {
      for (const k of s.variant.secrets.filter((k) => topKey(k) === key)) {
        if (key.startsWith("cloudflare:")) {
          // The provider reads it, not the program: used when the stack has Cloudflare resources to manage.
          expect({ key: k, cloudflare: s.journal.some((r) => r.type.startsWith("cloudflare:")) }).toEqual({ key: k, cloudflare: true });
          continue;
        }
        const users = s.shown.filter((p) => p.text.includes(mark(k))).map((p) => p.where);
        expect({ key: k, variant: s.variant.name, used: users.length > 0 }).toEqual({ key: k, variant: s.variant.name, used: true });
      }
    }
  });
});

describe.each(VARIANTS.map((v) => [v.name]))("no secret value in plain text: %s", (name) => {
  const current = () => sweeps.find((s) => s.variant.name === name) as Sweep;

  test("in any registration's inputs, any component's registered outputs, the stack outputs, the warnings or the render's files", () => {
    const s = current();
    expect(s.places.length).toBeGreaterThan(s.journal.length);
    const leaks: string[] = [];
    for (const [key, value] of Object.entries(s.variant.values)) {
      for (const form of forms(key, value)) {
        for (const place of s.places) if (place.text.includes(form)) leaks.push(`${key} in ${place.where}`);
      }
    }
    expect([...new Set(leaks)]).toEqual([]);
  });

  test("nor in any ConfigMap, container command, argument or environment value, wrapped as a secret or not", () => {
    // What a pod spec or a ConfigMap holds is plain to whoever may read them, whether the program wrapped it as a Pulumi secret or not.
    const s = current();
    const plain = plainPlaces(s.journal);
    expect(plain.filter((p) => p.where.startsWith("ConfigMap ")).length).toBeGreaterThanOrEqual(5);
    expect(plain.filter((p) => p.where.includes(" args of ")).length).toBeGreaterThanOrEqual(10);
    expect(plain.filter((p) => p.where.includes(" env ")).length).toBeGreaterThanOrEqual(5);
    const { password, hash } = nodeExporterCredentials(offlineStackSalt("monitoring", "production"), "any");
    const values: Array<[string, string[]]> = [
      ...Object.entries(s.variant.values).map(([key, value]): [string, string[]] => [key, forms(key, value)]),
      ["node-exporter's password and hash", [password, hash]],
    ];
    const leaks: string[] = [];
    for (const [key, found] of values) {
      for (const form of found) for (const place of plain) if (place.text.includes(form)) leaks.push(`${key} in ${place.where}`);
    }
    expect([...new Set(leaks)]).toEqual([]);
  });

  test("nor the stack's salt, which is a secret stack output", () => {
    const s = current();
    expect(s.redacted.outputs[SALT_OUTPUT]).toBe("[secret]");
    // The salt the render stands in, which the program read through its StackReference and exported again.
    const salt = offlineStackSalt("monitoring", "production");
    const leaks = s.places
      .filter((p) => p.text.includes(salt.toString("base64")) || p.text.includes(salt.toString("hex")))
      .map((p) => p.where);
    expect(leaks).toEqual([]);
  });

  test("nor node-exporter's password, its hash or its TLS key, derived from the salt: used, and only as secrets", () => {
    const s = current();
    // The password, the hash and the key do not depend on the namespace (only the certificate's name does).
    const { password, hash, keyPem } = nodeExporterCredentials(offlineStackSalt("monitoring", "production"), "any");
    const keyBody = keyPem.split("\n")[1];
    const values = { password, hash, key: keyBody };
    for (const [what, value] of Object.entries(values)) {
      expect({ what, used: s.shown.some((p) => p.text.includes(value)) }).toEqual({ what, used: true });
      const leaks = s.places.filter((p) => p.text.includes(value) || p.text.includes(Buffer.from(value).toString("base64")));
      expect({ what, leaks: leaks.map((p) => p.where) }).toEqual({ what, leaks: [] });
    }
  });

  test("components record no inputs at all, and their registered outputs hold secrets only as secrets", () => {
    const s = current();
    const components = s.journal.filter((r) => !r.custom);
    expect(components.length).toBeGreaterThanOrEqual(10);
    expect(components.filter((r) => Object.keys(r.inputs).length > 0).map((r) => r.urn)).toEqual([]);
    // Each registered its outputs, so that the sweep above saw them.
    expect(components.filter((r) => r.registeredOutputs === undefined).map((r) => r.urn)).toEqual([]);
  });
});
