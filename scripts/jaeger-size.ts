/** npm run jaeger-size: Jaeger's store on disk over time (lab/commands/jaeger-size.ts). */
import { main } from "../lab/commands/jaeger-size";

void main();
