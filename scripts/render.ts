/** npm run render: the offline render (cli/commands/render.ts). */
import { main } from "../cli/commands/render";
import { secretsFileHint } from "../cli/stackfile";
import { ConfigError } from "../config";

main().catch((err: unknown) => {
  // Pulumi wraps program errors; a config error is the message users need, alone.
  const text = err instanceof Error ? err.message : String(err);
  const configText = text.slice(text.indexOf("Invalid stack configuration"));
  const refused = err instanceof ConfigError || text.includes("Invalid stack configuration");
  console.error(refused ? configText : text);
  // The secrets it asks for, as the render takes them (a secrets file), beside the pulumi config set line of each.
  const hint = refused ? secretsFileHint(configText) : undefined;
  if (hint) console.error(hint);
  if (text.includes("could not be resolved") && !process.argv.includes("--services")) {
    console.error("The offline render has no cluster: give the apps' Services with --services <file> (kubectl get service -o yaml).");
  }
  process.exit(1);
});
