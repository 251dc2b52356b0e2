/**
 * Each kind of Alertmanager's receiver table, given in a stack, renders a config and templates
 * the release the stack deploys accepts (amtool check-config).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { alertmanagerConfig, alertmanagerTemplates } from "../../components/alertmanager/config-file";
import { alertmanagerArgs } from "../../components/stack/args";
import { checkConfig } from "../../lab/local/alertmanager";
import { parse } from "../config/support";
import { KIND_NAMES, stackWith } from "../support/receiver-kinds";

describe.each(KIND_NAMES)("a receiver of kind %s", (kind) => {
  test("Alertmanager accepts it: amtool check-config on the config and its templates", () => {
    const { plain, secrets } = stackWith(kind);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `am-${kind}-`));
    try {
      const config = path.join(dir, "alertmanager.yml");
      fs.writeFileSync(config, YAML.stringify(alertmanagerConfig(alertmanagerArgs(parse("staging", plain, secrets).config))));
      for (const [file, text] of Object.entries(alertmanagerTemplates({ environment: "staging" }))) {
        fs.writeFileSync(path.join(dir, file), text);
      }
      const result = checkConfig(config);
      expect({ ok: result.ok, output: result.ok ? "" : result.output }).toEqual({ ok: true, output: "" });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
