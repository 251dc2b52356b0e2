/**
 * `npm run grafana-ini-keys -- <conf/defaults.ini> --ref <tag> --commit <sha> [--source <words>]`:
 * writes catalog/grafana-ini-keys.yaml, each section of Grafana's conf/defaults.ini and the keys it
 * lists (facts: no values, no comments), from the file of a Grafana checkout at the release the
 * image is pinned to (components/images.ts). The tests hold every key the stack writes into
 * grafana.ini to it (test/components/grafana-ini-keys.test.ts). Not run in CI: it needs the
 * checkout, which needs the network.
 */
import * as fs from "fs";
import { GRAFANA_INI_KEYS_FILE, grafanaIniCatalogueText, parseIniKeys } from "../catalog/grafana-ini-keys";

const USAGE = "usage: npm run grafana-ini-keys -- <conf/defaults.ini> --ref <tag> --commit <sha> [--source <words>]";

function usage(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

export function main(argv: string[]): void {
  const option = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const optionAt = ["--ref", "--commit", "--source"].flatMap((flag) =>
    argv.includes(flag) ? [argv.indexOf(flag), argv.indexOf(flag) + 1] : [],
  );
  const [file] = argv.filter((_, i) => !optionAt.includes(i));
  if (!file) usage("no defaults.ini given");
  if (!fs.existsSync(file)) usage(`${file} does not exist`);
  const ref = option("--ref");
  const commit = option("--commit");
  if (!ref || !commit) usage("give the file's tag (--ref) and commit (--commit)");
  if (!/^[0-9a-f]{40}$/.test(commit)) usage(`--commit ${commit}: not a full commit id (40 hex digits)`);
  const sections = parseIniKeys(fs.readFileSync(file, "utf8"));
  const keys = Object.values(sections).reduce((n, k) => n + k.length, 0);
  if (keys === 0) usage(`${file} lists no key`);
  const source = option("--source") ?? `conf/defaults.ini of a checkout at ${ref}`;
  fs.writeFileSync(GRAFANA_INI_KEYS_FILE, grafanaIniCatalogueText(sections, { source, ref, commit }));
  console.error(`grafana-ini-keys: ${Object.keys(sections).length} sections, ${keys} keys in ${GRAFANA_INI_KEYS_FILE}`);
}
