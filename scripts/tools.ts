/** npm run tools: the pinned tools, built from tools/ (lab/commands/tools.ts). */
import { main } from "../lab/commands/tools";
import { ToolError } from "../lab/tools/go-build";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ToolError) {
      console.error(`npm run tools: ${err.message}`);
      process.exitCode = 1;
    } else {
      throw err;
    }
  },
);
