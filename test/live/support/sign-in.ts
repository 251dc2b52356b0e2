/**
 * The sign-in lab's inputs: the grafana.ini a stack file renders (renderedSignIn), a hand-written one in the shape
 * the stack writes (HAND_WRITTEN_INI), and the team the lab signs in: users in groups at Dex, and at Cloudflare Access.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderStack } from "../../../cli/render-stack";
import { Ini, expandValue, genericOAuthSettings, parseIni } from "../../../lab/local/grafana-sign-in";
import type { DexUser } from "../../../lab/local/dex";

/** Grafana's secrets volume, where `$__file{}` values point (components/grafana/args.ts, PATHS.secrets). */
const SECRETS_DIR = "/etc/grafana-secrets";

/** What the lab reads of a rendered grafana.ini: the document, and its `$__file{}` and `$__env{}` values resolved. */
export interface RenderedSignIn {
  ini: Ini;
  read: (kind: "file" | "env", name: string) => string;
  /** [auth.generic_oauth]'s client_secret, as Grafana reads it from the mounted Secret; none without the section. */
  clientSecret?: string;
}

/**
 * Renders a stack file (its YAML text) offline, as `npm run render` does, with the secrets given by config key
 * (grafanaOidcClientSecret: ...), and returns grafana.ini with what its `$__file{}` values point at: the files of
 * Grafana's Secrets in the render (files/grafana/<key>, mounted under /etc/grafana-secrets). The one place the lab
 * depends on the render of grafana.signIn.
 */
export async function renderedSignIn(stackYaml: string, secrets: Record<string, string>, stack = "staging"): Promise<RenderedSignIn> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sign-in-stack-"));
  try {
    const stackFile = path.join(dir, `Pulumi.${stack}.yaml`);
    fs.writeFileSync(stackFile, stackYaml);
    const rendered = await renderStack({ stack, stackFile, secrets: Object.entries(secrets), showSecrets: true });
    const text = rendered.files.get("grafana/grafana.ini");
    if (text === undefined)
      throw new Error(`the render has no files/grafana/grafana.ini (files: ${[...rendered.files.keys()].join(", ")})`);
    const ini = parseIni(text);
    const read = (kind: "file" | "env", name: string): string => {
      if (kind === "env") throw new Error(`grafana.ini reads $__env{${name}}: the lab resolves only the Secret's files`);
      if (path.posix.dirname(name) !== SECRETS_DIR) throw new Error(`$__file{${name}} is outside Grafana's secrets volume ${SECRETS_DIR}`);
      const content = rendered.files.get(`grafana/${path.posix.basename(name)}`);
      if (content === undefined) throw new Error(`$__file{${name}}: no key ${path.posix.basename(name)} in Grafana's rendered Secrets`);
      return content;
    };
    return { ini, read, ...(ini["auth.generic_oauth"] ? { clientSecret: genericOAuthSettings(ini, read).clientSecret } : {}) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The client secret the lab's Dex and the hand-written ini share. */
export const LAB_CLIENT_SECRET = "lab-client-secret-9c1f0e7a";

/** A hand-written grafana.ini in the shape the stack renders for grafana.signIn (oidc and roles; cloudflareAccess, which a stack renders alone, beside it). */
export function handWrittenIni(opts: { issuer: string; team: string; aud: string; strict?: boolean; allowedGroups?: string[] }): string {
  const strict = opts.strict ?? false;
  const member = (g: string) => `contains(groups[*] || '', '${g}')`;
  const fallback = strict ? "" : " || 'Viewer'";
  return `[server]
root_url = https://grafana.staging.example.com/

[users]
auto_assign_org_role = Viewer

[auth.generic_oauth]
enabled = true
name = Dex
allow_sign_up = true
client_id = grafana
client_secret = $__file{${SECRETS_DIR}/oidc-client-secret}
auth_url = ${opts.issuer}/auth
token_url = ${opts.issuer}/token
api_url = ${opts.issuer}/userinfo
scopes = openid email profile groups
login_attribute_path = preferred_username
email_attribute_path = email
name_attribute_path = name
groups_attribute_path = groups
allowed_groups = ${(opts.allowedGroups ?? ["monitoring"]).join(" ")}
use_pkce = true
role_attribute_path = ${member("sre")} && 'Admin' || ${member("dev")} && 'Editor'${fallback}
role_attribute_strict = ${strict}

[auth.jwt]
enabled = true
header_name = Cf-Access-Jwt-Assertion
jwk_set_url = https://${opts.team}.cloudflareaccess.com/cdn-cgi/access/certs
expect_claims = {"aud": "${opts.aud}", "iss": "https://${opts.team}.cloudflareaccess.com"}
email_claim = email
username_claim = email
role_attribute_path = contains(['alice@example.com'], email) && 'Admin' || contains(['dave@example.com'], email) && 'Editor'${fallback}
role_attribute_strict = ${strict}
auto_sign_up = true
`;
}

/** The hand-written ini's `$__file{}` values: the client secret's file. */
export const handWrittenRead = (kind: "file" | "env", name: string): string => {
  if (kind === "file" && name === `${SECRETS_DIR}/oidc-client-secret`) return `${LAB_CLIENT_SECRET}\n`;
  throw new Error(`the hand-written ini has no ${kind} ${name}`);
};

/**
 * Two members of groups whose names Grafana would split (allowed_groups [Monitoring Team]): one of "Monitoring Team",
 * one of "Team" alone, whom a split list would let in.
 */
export const SPLIT_TEAM: Record<"mona" | "tess", DexUser> = {
  mona: {
    email: "mona@example.com",
    password: "mona-pass-0",
    username: "mona",
    preferredUsername: "mona",
    name: "Mona Monitoring",
    groups: ["Monitoring Team"],
    userID: "0a1b2c3d-0005",
  },
  tess: {
    email: "tess@example.com",
    password: "tess-pass-0",
    username: "tess",
    preferredUsername: "tess",
    name: "Tess Team",
    groups: ["Team"],
    userID: "0a1b2c3d-0006",
  },
};

/** The team at Dex: an SRE (Admin), a developer (Editor), a reader in the allowed group only (Viewer), an outsider. */
export const TEAM: Record<"alice" | "dave" | "val" | "mallory", DexUser> = {
  alice: {
    email: "alice@example.com",
    password: "alice-pass-0",
    username: "alice",
    preferredUsername: "alice",
    name: "Alice Admin",
    groups: ["monitoring", "sre"],
    userID: "0a1b2c3d-0001",
  },
  dave: {
    email: "dave@example.com",
    password: "dave-pass-0",
    username: "dave",
    preferredUsername: "dave",
    name: "Dave Developer",
    groups: ["monitoring", "dev"],
    userID: "0a1b2c3d-0002",
  },
  val: {
    email: "val@example.com",
    password: "val-pass-0",
    username: "val",
    preferredUsername: "val",
    name: "Val Viewer",
    groups: ["monitoring"],
    userID: "0a1b2c3d-0003",
  },
  mallory: {
    email: "mallory@example.org",
    password: "mallory-pass-0",
    username: "mallory",
    preferredUsername: "mallory",
    name: "Mallory Outsider",
    groups: ["sre-contractors"],
    userID: "0a1b2c3d-0004",
  },
};

/** Resolves a setting's `$__file{}` values with `read` (for a value the test shows). */
export const resolved = (value: string, read: RenderedSignIn["read"]) => expandValue(value, read);
