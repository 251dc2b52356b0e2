/** npm run render: the offline render (cli/commands/render.ts). */
import { main } from "../cli/commands/render";
import { ConfigError } from "../config";

main().catch((err: unknown) => {
  // Pulumi wraps program errors; a config error is the message users need, alone.
  const text = err instanceof Error ? err.message : String(err);
  const configText = text.slice(text.indexOf("Invalid stack configuration"));
  console.error(err instanceof ConfigError || text.includes("Invalid stack configuration") ? configText : text);
  if (text.includes("could not be resolved") && !process.argv.includes("--services")) {
    console.error("The offline render has no cluster: give the apps' Services with --services <file> (kubectl get service -o yaml).");
  }
  process.exit(1);
});
