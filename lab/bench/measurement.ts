/** One figure of npm run bench, held to its target. */
export interface Measurement {
  name: string;
  value: number;
  unit: string;
  target: number;
  /** "max": the value must stay at or below the target. */
  kind: "max";
  display?: string;
}
