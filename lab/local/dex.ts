/**
 * Dex, a real OpenID Connect provider (built by `npm run tools` from tools/dex/go.mod, release v2.45.1), on
 * 127.0.0.1 for the sign-in lab: in-memory storage, its local password database with the lab's users and their
 * groups, and one static client per relying party, as a team's Dex would hold Grafana's. The lab's own browser and
 * relying party (oidc-flow.ts) drive it.
 *
 * Dex's issuer is the one the stack's settings name (https://dex.example.test/dex, say): Dex answers any host, so it
 * serves that issuer's paths on its loopback port, and `reach` maps a URL of the issuer's origin to that port. The
 * tokens carry the issuer as the stack knows it, and the stack's URLs are what the lab requests.
 */
import * as fs from "fs";
import * as path from "path";
import * as bcrypt from "bcryptjs";
import * as YAML from "yaml";
import { stackBinary } from "./binaries";
import { httpGet } from "./http";
import { LOOPBACK, freePort } from "../ports";
import { LocalRun, ManagedProcess } from "../processes/children";

export interface DexUser {
  email: string;
  password: string;
  /** Dex's display name of the password entry; the ID token's `name` unless `name` is given. */
  username: string;
  /** The ID token's preferred_username. */
  preferredUsername: string;
  name?: string;
  groups: string[];
  userID: string;
}

export interface DexClient {
  id: string;
  secret: string;
  name: string;
  redirectURIs: string[];
}

export interface RunningDex {
  process: ManagedProcess;
  issuer: string;
  /** http://127.0.0.1:<port>: where the issuer's origin is served. */
  labOrigin: string;
  /** A URL of the issuer's origin, on Dex's loopback port; other URLs unchanged. */
  reach(url: string): string;
}

/** Dex's config (YAML): what it stores, whom it knows, where it listens. */
export function dexConfig(opts: { issuer: string; port: number; clients: DexClient[]; users: DexUser[] }): string {
  return YAML.stringify({
    issuer: opts.issuer,
    storage: { type: "memory" },
    web: { http: `${LOOPBACK}:${opts.port}` },
    logger: { level: "debug", format: "text" },
    // Grafana's users are sent straight back to Grafana: no consent page to click through.
    oauth2: { skipApprovalScreen: true, responseTypes: ["code"] },
    expiry: { idTokens: "10m", authRequests: "10m" },
    enablePasswordDB: true,
    staticPasswords: opts.users.map((u) => ({
      email: u.email,
      // Dex takes bcrypt hashes of cost 10 or more.
      hash: bcrypt.hashSync(u.password, 10),
      username: u.username,
      preferredUsername: u.preferredUsername,
      ...(u.name ? { name: u.name } : {}),
      userID: u.userID,
      groups: u.groups,
    })),
    staticClients: opts.clients.map((c) => ({ id: c.id, secret: c.secret, name: c.name, redirectURIs: c.redirectURIs })),
  });
}

/** Starts Dex in `dir` (its config is written there) and waits until it serves its discovery document. */
export async function startDex(
  run: LocalRun,
  opts: { dir: string; issuer: string; clients: DexClient[]; users: DexUser[] },
): Promise<RunningDex> {
  const port = await freePort();
  const issuer = new URL(opts.issuer);
  const labOrigin = `http://${LOOPBACK}:${port}`;
  const config = path.join(opts.dir, "dex.yaml");
  fs.writeFileSync(config, dexConfig({ issuer: opts.issuer, port, clients: opts.clients, users: opts.users }), { mode: 0o600 });
  const proc = run.start("dex", stackBinary("dex"), ["serve", config], { cwd: opts.dir });
  const reach = (url: string): string => {
    const u = new URL(url);
    return u.origin === issuer.origin ? `${labOrigin}${u.pathname}${u.search}` : url;
  };
  const discovery = reach(`${opts.issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`);
  await run.waitFor(
    "Dex serving its discovery document",
    async () => ((await httpGet(discovery).catch(() => undefined))?.status === 200 ? true : undefined),
    60_000,
    200,
  );
  return { process: proc, issuer: opts.issuer, labOrigin, reach };
}
