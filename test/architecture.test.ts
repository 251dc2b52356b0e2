/** The architecture's rules that a reviewer would otherwise have to remember. */
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
const componentFiles = fs
  .readdirSync(path.join(ROOT, "components"))
  .filter((f) => f.endsWith(".ts"))
  .map((f) => ({ file: `components/${f}`, text: fs.readFileSync(path.join(ROOT, "components", f), "utf8") }));

test("only index.ts reads Pulumi config; components take plain args", () => {
  const readers = componentFiles
    .filter(({ text }) => /new pulumi\.Config\(|runtime\.allConfig\(|runtime\.getConfig\(/.test(text.replace(/^\s*(\/\/|\*).*$/gm, "")))
    .map(({ file }) => file);
  expect(readers).toEqual([]);
  expect(fs.readFileSync(path.join(ROOT, "index.ts"), "utf8")).toMatch(/pulumi\.runtime\.allConfig\(\)/);
});

test("every component registers under the project's type namespace and registers its outputs", () => {
  const components = componentFiles.filter(({ text }) => /extends pulumi\.ComponentResource/.test(text));
  expect(components.length).toBeGreaterThanOrEqual(10);
  for (const { file, text } of components) {
    const classes = text.split(/(?=export class \w+ extends pulumi\.ComponentResource)/).slice(1);
    for (const body of classes) {
      const name = /export class (\w+)/.exec(body)?.[1];
      expect({ file, name, token: new RegExp(`super\\("monitoring:index:${name}"`).test(body) }).toEqual({ file, name, token: true });
      expect({ file, name, registersOutputs: /this\.registerOutputs\(/.test(body) }).toEqual({ file, name, registersOutputs: true });
    }
  }
});

test("no component pins an image of its own: images.ts is the one versions file", () => {
  const pinned = componentFiles
    .filter(({ file }) => file !== "components/images.ts")
    .filter(({ text }) => /["'`][\w.-]+\.(io|com)\/[\w./-]+:[\w.-]+["'`]/.test(text))
    .map(({ file }) => file);
  expect(pinned).toEqual([]);
});
