/**
 * Runs the Pulumi program under Pulumi's mocks, with the real SDKs and no CLI,
 * cluster or cloud account, and records every resource it registers. Shared by
 * the offline renderer (scripts/render.ts) and the tests.
 */
import * as crypto from "crypto";
import { bcryptHash } from "../components/kit/kdf";
import * as pulumi from "@pulumi/pulumi";
import * as rpc from "@pulumi/pulumi/runtime/rpc";
import { RegisterResourceResponse } from "@pulumi/pulumi/proto/resource_pb";
import { readingStackFile } from "../preflight/stack-file";
import { readingDiscoveryDocument } from "../preflight/oidc-discovery";
import { GivenConfigMap, readingServedMonitors } from "../preflight/served-monitors";
import { DebuggableModule, untracedPromises } from "./sdk-promises";

// The SDK's promises, untraced unless its leak debugging asks (cli/sdk-promises.ts).
// eslint-disable-next-line @typescript-eslint/no-require-imports
untracedPromises(require("@pulumi/pulumi/runtime/debuggable") as DebuggableModule);

/** The SDK's settings store: internal to @pulumi/pulumi (no typings), where setMocks leaves the root directory unset. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { getStore } = require("@pulumi/pulumi/runtime/state") as {
  getStore(): { settings: { options: { rootDirectory?: string } } };
};
/**
 * What the engine's disconnect waits for (internal too): every resource the program has
 * constructed, including those still waiting for an input (an Output a promise resolves later).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

/** A value that was a Pulumi secret, kept apart so that it can be redacted. */
export class SecretValue {
  constructor(public readonly value: unknown) {}
}

/** One registered resource, with its inputs as the program sent them. */
export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  /** The types of the component resources this resource is nested in, outermost first. */
  parents: string[];
  /** Inputs with secrets wrapped in SecretValue. */
  inputs: Record<string, unknown>;
  /** The resource options the engine would act on. */
  options: { protect: boolean; retainOnDelete: boolean; deleteBeforeReplace: boolean; ignoreChanges: string[] };
  /** URNs of the resources it depends on (dependsOn and the Outputs among its inputs), as the engine records them. */
  dependencies: string[];
  /**
   * What a component registered as its outputs (registerOutputs), with secrets wrapped in
   * SecretValue: the state keeps them beside its inputs. Absent until it registers them.
   */
  registeredOutputs?: Record<string, unknown>;
}

export interface RunResult {
  resources: RecordedResource[];
  /** Resources the program read rather than registered (its StackReference to its own stack). */
  reads: RecordedResource[];
  /** Stack outputs; secret ones wrapped in SecretValue. */
  outputs: Record<string, unknown>;
  /** Warnings the program logged (pulumi.log.warn). */
  warnings: string[];
}

export interface RunInput {
  project: string;
  stack: string;
  /** Full config keys (`monitoring:domain`) to string values, as the Pulumi CLI passes them. */
  config: Record<string, string>;
  secretKeys: string[];
  /** The project's directory, as pulumi.getRootDirectory() answers it; default: the current directory. */
  rootDirectory?: string;
  /** The program: defaults to index.ts. */
  program?: () => Promise<Record<string, unknown>>;
  /**
   * The outputs of the stack's previous deployment, as a StackReference to the stack reads
   * them (index.ts reads `volumes`, `namespace` and the stack's salt). One wrapped in
   * SecretValue was a secret output: the reference lists it in `secretOutputNames`, as the
   * engine does. Default: none, a first deployment.
   */
  previousOutputs?: Record<string, unknown>;
  /** Appended every registration and read as it happens, in order, even when the program then fails. */
  journal?: RecordedResource[];
  /**
   * The cluster's Services the program may read (an app's Service port given by number), as the
   * API returns them (`kubectl get service -o yaml`). A read of any other Service finds none, as
   * the engine's read of a missing object. Default: none.
   */
  services?: Array<{ metadata: { namespace?: string; name: string }; spec?: unknown }>;
  /**
   * The stack file the config came from when it is not the project's Pulumi.<stack>.yaml (the
   * render's --stack-file): the program reads its plain entries beside secret ones there.
   */
  stackFile?: string;
  /**
   * The OpenID Connect issuer's discovery document saved to a file (the commands' --oidc-discovery):
   * the endpoints grafana.signIn.oidc does not give are read there, as preview reads them from the issuer.
   */
  oidcDiscovery?: string;
  /**
   * The served stacks' `served-monitors` ConfigMaps (the render's --served-monitors), as the serving stack's preview
   * reads them from the cluster (preflight/served-monitors.ts). Default: none, and the render says it read none.
   */
  servedMonitors?: GivenConfigMap[];
}

/** The organization a DIY backend (file, bucket) gives every stack, as pulumi.getOrganization() answers it. */
export const ORGANIZATION = "organization";
const STACK_REFERENCE = "pulumi:pulumi:StackReference";

const CLOUDFLARE_TUNNEL = "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared";
const CLOUDFLARE_ACCESS_APPLICATION = "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication";
const SERVICE = "kubernetes:core/v1:Service";

/** Outputs that a provider computes, for the resource types the stack uses. Deterministic: derived from the URN. */
function computedState(
  type: string,
  urn: string,
  inputs: Record<string, unknown>,
  previousOutputs: Record<string, unknown> = {},
): Record<string, unknown> {
  if (type === STACK_REFERENCE) {
    // What the engine's builtin provider reads: the referenced stack's outputs (none before its first
    // deployment), and the names of those that were secrets, whose values the SDK then wraps as secrets.
    const outputs = Object.fromEntries(Object.entries(previousOutputs).map(([k, v]) => [k, v instanceof SecretValue ? v.value : v]));
    const secretOutputNames = Object.keys(previousOutputs).filter((k) => previousOutputs[k] instanceof SecretValue);
    return { name: inputs.name, outputs, secretOutputNames };
  }
  const digest = crypto.createHash("sha256").update(urn).digest();
  const hex = digest.toString("hex");
  if (type.startsWith("kubernetes:") && !type.startsWith("kubernetes:helm")) {
    const meta = (inputs.metadata ?? {}) as Record<string, unknown>;
    if (meta.name === undefined && !type.endsWith("Patch")) {
      // Pulumi auto-names objects without metadata.name: the resource name plus a random suffix.
      const name = urn.slice(urn.lastIndexOf("::") + 2);
      return { ...inputs, metadata: { ...meta, name: `${name}-${hex.slice(0, 8)}` } };
    }
    return inputs;
  }
  if (type === "random:index/randomPassword:RandomPassword" || type === "random:index/randomString:RandomString") {
    const length = Number(inputs.length ?? 32);
    const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let result = "";
    for (let i = 0; result.length < length; i++) {
      const byte = crypto.createHash("sha256").update(`${urn}/${i}`).digest()[0];
      result += alphabet[byte % alphabet.length];
    }
    // A real bcrypt hash of the result, as the random provider computes it, with a salt derived from the URN.
    const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const salt = Array.from(digest.subarray(0, 22), (b) => bcryptAlphabet[b % 64]).join("");
    return { ...inputs, result, bcryptHash: bcryptHash(result, `$2a$10$${salt}`) };
  }
  if (type === "random:index/randomBytes:RandomBytes" || type === "random:index/randomId:RandomId") {
    const bytes = digest.subarray(0, Number(inputs.length ?? inputs.byteLength ?? 32));
    return { ...inputs, base64: bytes.toString("base64"), hex: bytes.toString("hex"), b64Std: bytes.toString("base64") };
  }
  if (type === CLOUDFLARE_TUNNEL) {
    // Cloudflare names a tunnel by a UUID; its DNS target is <uuid>.cfargotunnel.com.
    const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    return { ...inputs, id: uuid };
  }
  if (type === CLOUDFLARE_ACCESS_APPLICATION) {
    // Cloudflare tags each Access application with an AUD: 64 hex characters, which its tokens carry.
    return { ...inputs, id: hex.slice(0, 32), aud: mockAccessAudience(urn) };
  }
  return { ...inputs, id: hex.slice(0, 32) };
}

/** The AUD tag the mocks give an Access application (`<type>::<resource name>`): 64 hex characters, as Cloudflare's. */
export function mockAccessAudience(typeAndName: string): string {
  return crypto.createHash("sha256").update(`${typeAndName}/aud`).digest("hex");
}

function isSecretSentinel(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[rpc.specialSigKey] === rpc.specialSecretSig;
}

/** Replaces Pulumi's wire-format secrets with SecretValue, recursively. */
function wrapSecrets(value: unknown): unknown {
  if (isSecretSentinel(value)) return new SecretValue(wrapSecrets(value.value));
  if (Array.isArray(value)) return value.map(wrapSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wrapSecrets(v)]));
  }
  return value;
}

/** Resolves an output value (Outputs, promises, plain values) and keeps its secretness. */
async function resolveOutput(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    const [plain, secret] = await Promise.all([new Promise<unknown>((resolve) => value.apply((v) => resolve(v))), pulumi.isSecret(value)]);
    const resolved = await resolveOutput(plain);
    return secret ? new SecretValue(resolved) : resolved;
  }
  if (value instanceof Promise) return resolveOutput(await value);
  if (Array.isArray(value)) return Promise.all(value.map(resolveOutput));
  if (typeof value === "object" && value !== null && !(value instanceof SecretValue)) {
    const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolveOutput(v)] as const));
    return Object.fromEntries(entries);
  }
  return value;
}

interface RegisterRequest {
  getParent(): string;
  getType(): string;
  getName(): string;
  getCustom(): boolean;
  getObject(): WireStruct | undefined;
  getProvider(): string;
  getImportid(): string;
  getProtect(): boolean;
  getRetainondelete(): boolean;
  getDeletebeforereplace(): boolean;
  getIgnorechangesList(): string[];
  getDependenciesList(): string[];
}
/** The SDK's protobuf Struct as rpc.deserializeProperties reads it: only its toJavaScript. */
type WireStruct = Parameters<typeof rpc.deserializeProperties>[0];
/** A plain object of the wire form, read as a Struct holding it would be. */
const plainStruct = (value: Record<string, unknown>): WireStruct => ({ toJavaScript: () => value }) as unknown as WireStruct;

interface ReadRequest {
  getParent(): string;
  getType(): string;
  getName(): string;
  getProperties(): Parameters<typeof rpc.deserializeProperties>[0];
  getDependenciesList(): string[];
}
interface MockMonitorInternals {
  resources: Map<string, unknown>;
  newUrn(parent: string, type: string, name: string): string;
  registerResource(req: RegisterRequest, callback: (err: unknown, res: unknown) => void): Promise<void>;
  readResource(req: ReadRequest, callback: (err: unknown, res: unknown) => void): Promise<void>;
  registerResourceOutputs(req: RegisterOutputsRequest, callback: (err: unknown, res: unknown) => void): void;
}
interface RegisterOutputsRequest {
  getUrn(): string;
  getOutputs(): Parameters<typeof rpc.deserializeProperties>[0];
}

let running = false;

/**
 * Runs the program once under mocks with the given config and returns what it
 * registered. Runs are serialised: Pulumi's runtime state is process-global.
 * Fails on a duplicate URN, as the engine would.
 */
export async function runProgram(input: RunInput): Promise<RunResult> {
  if (running) throw new Error("runProgram is not re-entrant: await one run before starting the next");
  running = true;
  const recorded: RecordedResource[] = [];
  const reads: RecordedResource[] = [];
  const warnings: string[] = [];
  const duplicateUrns: string[] = [];
  let inFlight = 0;
  const originalWarn = pulumi.log.warn;
  const stackFileRead = input.stackFile !== undefined ? readingStackFile(input.stackFile) : undefined;
  const discoveryRead = input.oidcDiscovery !== undefined ? readingDiscoveryDocument(input.oidcDiscovery) : undefined;
  const servedMonitorsRead = input.servedMonitors !== undefined ? readingServedMonitors(input.servedMonitors) : undefined;
  try {
    pulumi.runtime.setAllConfig(input.config, input.secretKeys);
    const mocks: pulumi.runtime.Mocks = {
      newResource: (args) => {
        if (args.id !== undefined && args.type === SERVICE) {
          // A read of a Service in the cluster: what the stand-in cluster holds, or nothing.
          const found = (input.services ?? []).find((s) => `${s.metadata.namespace ?? "default"}/${s.metadata.name}` === args.id);
          return found ? { id: args.id, state: found as Record<string, unknown> } : { id: undefined, state: {} };
        }
        const urn = `${args.type}::${args.name}`;
        const state = computedState(args.type, urn, args.inputs as Record<string, unknown>, input.previousOutputs);
        // A Cloudflare tunnel's id is its UUID, which other resources (DNS targets, the connector token) embed.
        return { id: args.type === CLOUDFLARE_TUNNEL ? String(state.id) : `${args.name}-id`, state };
      },
      call: (args) => {
        throw new Error(`the program made a provider call (${args.token}) that the offline render cannot answer`);
      },
    };
    await pulumi.runtime.setMocks(mocks, input.project, input.stack, false, ORGANIZATION);
    // Where Pulumi would run the program: the project's directory (setMocks leaves a placeholder).
    getStore().settings.options.rootDirectory = input.rootDirectory ?? process.cwd();

    const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitorInternals;
    const parentTypes = new Map<string, string[]>();
    const recordedByUrn = new Map<string, RecordedResource>();
    // What MockMonitor.registerResource does (ask the mocks for the state, keep it, answer the URN, id and
    // state), with the inputs read out of the request's protobuf Struct once, for the record and the mocks
    // alike, and the state answered as the plain object the SDK reads out of a Struct (rpc.deserializeProperties
    // calls its toJavaScript): the mock monitor read the inputs twice and made a Struct of the state for the
    // SDK to read back, three walks of every resource's whole object that gave the same values.
    monitor.registerResource = async (req, callback) => {
      inFlight += 1;
      try {
        const urn = monitor.newUrn(req.getParent(), req.getType(), req.getName());
        if (monitor.resources.has(urn) || recordedByUrn.has(urn)) {
          // Reported when the run ends: failing the registration here would surface as an unhandled rejection.
          duplicateUrns.push(urn);
        }
        const parent = req.getParent();
        const parents = parent ? [...(parentTypes.get(parent) ?? []), parent.split("::")[2].split("$").pop() ?? ""] : [];
        parentTypes.set(urn, parents);
        const inputs = rpc.deserializeProperties(req.getObject() ?? plainStruct({}));
        const record: RecordedResource = {
          urn,
          type: req.getType(),
          name: req.getName(),
          custom: req.getCustom(),
          parents: parents.filter((t) => t !== "pulumi:pulumi:Stack"),
          inputs: wrapSecrets(inputs) as Record<string, unknown>,
          options: {
            protect: req.getProtect(),
            retainOnDelete: req.getRetainondelete(),
            deleteBeforeReplace: req.getDeletebeforereplace(),
            ignoreChanges: req.getIgnorechangesList(),
          },
          dependencies: [...req.getDependenciesList()].sort(),
        };
        recorded.push(record);
        recordedByUrn.set(urn, record);
        input.journal?.push(record);
        const result = await mocks.newResource({
          type: req.getType(),
          name: req.getName(),
          inputs,
          provider: req.getProvider(),
          custom: req.getCustom(),
          id: req.getImportid(),
        });
        const state = (await rpc.serializeProperties("", result.state)) as Record<string, unknown>;
        monitor.resources.set(urn, { urn, id: result.id ?? null, state });
        const response = new RegisterResourceResponse();
        response.setUrn(urn);
        response.setId(result.id || "");
        response.getObject = () => plainStruct(state);
        callback(null, response);
      } catch (err) {
        callback(err, undefined);
      } finally {
        inFlight -= 1;
      }
    };
    // A read (a StackReference) creates nothing: recorded apart from what the program registers.
    const read = monitor.readResource.bind(monitor);
    monitor.readResource = async (req, callback) => {
      inFlight += 1;
      try {
        const record: RecordedResource = {
          urn: monitor.newUrn(req.getParent(), req.getType(), req.getName()),
          type: req.getType(),
          name: req.getName(),
          custom: true,
          parents: [],
          inputs: wrapSecrets(rpc.deserializeProperties(req.getProperties())) as Record<string, unknown>,
          options: { protect: false, retainOnDelete: false, deleteBeforeReplace: false, ignoreChanges: [] },
          dependencies: [...req.getDependenciesList()].sort(),
        };
        reads.push(record);
        input.journal?.push(record);
        await read(req, callback);
      } finally {
        inFlight -= 1;
      }
    };
    // A component's registered outputs go into the state beside its inputs: kept on its record.
    const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req, callback) => {
      const record = recordedByUrn.get(req.getUrn());
      if (record) record.registeredOutputs = wrapSecrets(rpc.deserializeProperties(req.getOutputs())) as Record<string, unknown>;
      registerOutputs(req, callback);
    };
    (pulumi.log as { warn: typeof pulumi.log.warn }).warn = (msg: string) => {
      warnings.push(msg);
      return Promise.resolve();
    };

    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program = input.program ?? (require("../index") as () => Promise<Record<string, unknown>>);
    // Registrations run asynchronously: wait, as the engine does, until every resource the program
    // constructed has registered (some wait for inputs that resolve later), then until none of
    // the calls recorded here has been under way for a few turns of the event loop.
    const settled = async () => {
      await waitForRPCs();
      for (let quiet = 0; quiet < 5;) {
        await new Promise((resolve) => setImmediate(resolve));
        quiet = inFlight === 0 ? quiet + 1 : 0;
      }
    };
    let outputs: Record<string, unknown>;
    try {
      outputs = (await resolveOutput(await program())) as Record<string, unknown>;
    } catch (err) {
      // So that the journal holds everything the program had started to register when it failed.
      await settled();
      throw err;
    }
    await settled();
    if (duplicateUrns.length > 0) throw new Error(`duplicate URNs: ${duplicateUrns.join(", ")}`);
    return {
      resources: recorded.filter((r) => !r.type.startsWith("pulumi:providers:")),
      reads,
      outputs,
      warnings,
    };
  } finally {
    (pulumi.log as { warn: typeof pulumi.log.warn }).warn = originalWarn;
    stackFileRead?.();
    discoveryRead?.();
    servedMonitorsRead?.();
    // A flag, not a sum: whatever was awaited since it was set, the run it guards is over.
    // eslint-disable-next-line require-atomic-updates
    running = false;
  }
}
