/**
 * The pinned tool set (scripts/lib/tools.ts, tools/<module>/go.mod): the engine and its
 * plugins are the releases of the npm packages the program uses, every tool module pins
 * what the table says, and no built binary can reach git.
 */
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { ImageName, imageVersion, images } from "../../components/images";
import {
  ROOT,
  STACK_TOOLS,
  TOOLS,
  TOOLS_DIR,
  UNAVAILABLE,
  binPath,
  goModRequire,
  npmVersion,
  pinnedNpmVersion,
} from "../../scripts/lib/tools";

describe("the tool set", () => {
  test.each(TOOLS.filter((t) => t.npmPackage).map((t) => [t.binary, t] as const))(
    "%s is the release of its npm package, pinned exactly",
    (_binary, tool) => {
      const pkg = tool.npmPackage as string;
      const release = tool.release.replace(/^v/, "");
      expect(pinnedNpmVersion(pkg)).toBe(release);
      expect(npmVersion(pkg)).toBe(release);
    },
  );

  test("every npm package with a Pulumi plugin has its tool or says why not", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    const providers = Object.keys(manifest.dependencies).filter((d) => d.startsWith("@pulumi/") && d !== "@pulumi/pulumi");
    for (const pkg of providers) {
      const name = pkg.slice("@pulumi/".length);
      const built = TOOLS.some((t) => t.plugin === name);
      const explained = UNAVAILABLE.some((u) => u.what.startsWith(`pulumi-resource-${name} `));
      expect({ pkg, built, explained }).toEqual({ pkg, built: !explained, explained: !built });
    }
  });

  test.each(TOOLS.map((t) => [t.binary, t] as const))("%s: its go.mod pins the upstream module", (_binary, tool) => {
    const pinned = goModRequire(tool.module, tool.upstream);
    expect(pinned).toBeDefined();
    if (/^v\d+\.\d+\.\d+-\d{14}-[0-9a-f]{12}$/.test(pinned as string)) {
      // A pseudo-version: the table names the release whose commit it is (cloudflared's are calendar versions).
      expect(tool.release).toMatch(/^v?\d+\.\d+\.\d+$/);
    } else {
      expect(pinned).toBe(tool.moduleVersion ?? tool.release);
    }
    expect(fs.existsSync(path.join(TOOLS_DIR, tool.module, "go.sum"))).toBe(true);
  });

  test("the control plane's Kubernetes libraries are the release of the binaries", () => {
    const gomod = fs.readFileSync(path.join(TOOLS_DIR, "control-plane", "go.mod"), "utf8");
    const release = TOOLS.find((t) => t.binary === "kube-apiserver")?.release as string;
    const staging = [...gomod.matchAll(/^\s*(k8s\.io\/[a-z-]+) => k8s\.io\/[a-z-]+ (v\S+)$/gm)];
    expect(staging.length).toBeGreaterThan(20);
    for (const [, module, version] of staging) expect({ module, version }).toEqual({ module, version: release.replace(/^v1\./, "v0.") });
  });

  test("built tools and generated files stay out of git", () => {
    // Without a trailing slash, so that it also covers a link (a work tree sharing another's tools).
    expect(fs.readFileSync(path.join(ROOT, ".gitignore"), "utf8").split("\n")).toContain(".tools");
    for (const tool of TOOLS.filter((t) => t.embeds)) {
      const ignored = fs.readFileSync(path.join(TOOLS_DIR, tool.module, ".gitignore"), "utf8").split("\n");
      for (const embed of tool.embeds ?? []) expect(ignored).toContain(embed.to);
    }
  });
});

describe("the stack's binaries are the releases of its images", () => {
  test("every image has the tools that stand for it in the tests, or says why it cannot be built", () => {
    const covered = new Set(STACK_TOOLS.map((t) => t.image));
    const explained = (name: string) => UNAVAILABLE.some((u) => u.what.startsWith(`${name} `));
    const missing = (Object.keys(images) as ImageName[]).filter((name) => !covered.has(name) && !explained(name));
    expect(missing).toEqual([]);
  });

  test.each(STACK_TOOLS.map((t) => [t.binary, t] as const))("%s: its release is its image's tag", (_binary, tool) => {
    const tag = imageVersion(tool.image as ImageName);
    expect(tool.release.replace(/^v/, "")).toBe(tag.replace(/^v/, ""));
  });

  test.each(STACK_TOOLS.map((t) => [t.binary, t] as const))("%s --version reports its image's tag", (binary, tool) => {
    const file = binPath(binary);
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run tools\``);
    const result = spawnSync(file, tool.versionArgs ?? ["--version"], { encoding: "utf8", timeout: 30_000 });
    const output = `${result.stdout}${result.stderr}`;
    const tag = imageVersion(tool.image as ImageName).replace(/^v/, "");
    // The version as a whole word: 3.13.5 must not pass for 3.13.50.
    expect(output).toMatch(new RegExp(`(^|[^0-9.])v?${tag.replace(/\./g, "\\.")}([^0-9.]|$)`, "m"));
  });
});
