/**
 * Offline render: runs the program under Pulumi's mocks (no Pulumi CLI, cluster or
 * cloud account) and writes what `pulumi up` would create, with the summary it prints (SUMMARY.md).
 *
 *   npm run render -- --stack <name> [--stack-file <file>] [--out <dir>] [--set <key>=<value>]... [--secrets-file <file>]
 *                     [--oidc-discovery <file>] [--show-secrets] [--previous <outputs.json>] [--services <services.yaml>]
 *
 * `--secrets-file` gives secret values apart from the command line, which npm prints: `--set` of a
 * key marked secret is refused, naming the line to put there instead.
 */
import * as fs from "fs";
import * as path from "path";
import { summary, writeRender } from "../render";
import { renderStack, servicesOf } from "../render-stack";
import { readSecretsFile, secretsFileWarning } from "../stackfile";
import { helpAsked } from "./help";

const USAGE =
  "usage: npm run render -- --stack <name> [--stack-file <file>] [--out <dir>] [--set <key>=<value>]... [--secrets-file <file>] [--oidc-discovery <file>] [--show-secrets] [--previous <outputs.json>] [--services <services.yaml>]";

interface Args {
  stack: string;
  /** A stack file other than Pulumi.<stack>.yaml (an example's). */
  stackFile?: string;
  out: string;
  sets: string[];
  /** A YAML file of secret values by config path (`databaseDsns.orders: postgresql://…`): secrets that npm's echo of the command line does not print. */
  secretsFile?: string;
  /** The OpenID Connect issuer's discovery document, saved to a file (grafana.signIn.oidc's endpoints offline). */
  oidcDiscovery?: string;
  showSecrets: boolean;
  /** A file of the previous deployment's stack outputs (a render's outputs.json, or `pulumi stack output --json`). */
  previous?: string;
  /** The apps' Services, as `kubectl get service -o yaml` prints them: read where an app gives its Service's port by number. */
  services?: string;
}

function parseArgs(argv: string[]): Args {
  let stack: string | undefined;
  let out: string | undefined;
  const sets: string[] = [];
  let showSecrets = false;
  let previous: string | undefined;
  let stackFile: string | undefined;
  let services: string | undefined;
  let secretsFile: string | undefined;
  let oidcDiscovery: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === "--stack" || arg === "-s") stack = value();
    else if (arg === "--out") out = value();
    else if (arg === "--stack-file") stackFile = value();
    else if (arg === "--set") sets.push(value());
    else if (arg === "--secrets-file") secretsFile = value();
    else if (arg === "--oidc-discovery") oidcDiscovery = value();
    else if (arg === "--show-secrets") showSecrets = true;
    else if (arg === "--previous") previous = value();
    else if (arg === "--services") services = value();
    else throw new Error(`unknown argument "${arg}"\n${USAGE}`);
  }
  if (!stack) throw new Error(`--stack is required\n${USAGE}`);
  return {
    stack,
    out: out ?? path.join("out", stack),
    sets,
    showSecrets,
    ...(previous ? { previous } : {}),
    ...(stackFile ? { stackFile } : {}),
    ...(services ? { services } : {}),
    ...(secretsFile ? { secretsFile } : {}),
    ...(oidcDiscovery ? { oidcDiscovery } : {}),
  };
}

export async function main(): Promise<void> {
  if (helpAsked(process.argv.slice(2), USAGE)) return;
  const args = parseArgs(process.argv.slice(2));
  const previousOutputs = args.previous ? (JSON.parse(fs.readFileSync(args.previous, "utf8")) as Record<string, unknown>) : undefined;
  if (args.secretsFile) {
    const warning = secretsFileWarning(args.secretsFile);
    if (warning) console.error(`warning: ${warning}`);
  }
  const rendered = await renderStack({
    stack: args.stack,
    ...(args.stackFile ? { stackFile: args.stackFile } : {}),
    sets: args.sets,
    ...(args.secretsFile ? { secrets: readSecretsFile(args.secretsFile) } : {}),
    ...(args.oidcDiscovery ? { oidcDiscovery: args.oidcDiscovery } : {}),
    refuseSecretSets: true,
    showSecrets: args.showSecrets,
    ...(previousOutputs ? { previousOutputs } : {}),
    ...(args.services ? { services: servicesOf(fs.readFileSync(args.services, "utf8")) } : {}),
  });
  const text = summary(rendered, args.stack, args.out, rendered.config, rendered.placeholders);
  writeRender(rendered, args.out, text);
  console.log(text);
}
