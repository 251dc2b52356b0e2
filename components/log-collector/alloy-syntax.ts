/**
 * Alloy's configuration syntax, written from a small tree (blocks, attributes, expressions)
 * rather than from string templates, so that every value is quoted and escaped one way.
 */
import { RelabelRule } from "./relabelling";
import { programmingError } from "../kit/problems";

/** An expression written as is (a component's export, a function call). */
export class AlloyExpr {
  constructor(readonly text: string) {}
}

export type AlloyValue = string | number | boolean | AlloyExpr | AlloyValue[];

/** A block: `name "label" { attributes; blocks }`. */
export interface AlloyBlock {
  name: string;
  label?: string;
  attributes?: Array<[string, AlloyValue]>;
  blocks?: AlloyBlock[];
}

// Block and attribute names and numbers are this file's own literals, never the stack's values (strings
// are, and are escaped): one that Alloy would not parse is a programming error, thrown as one.
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BLOCK_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

function value(v: AlloyValue): string {
  if (v instanceof AlloyExpr) return v.text;
  if (Array.isArray(v)) return `[${v.map(value).join(", ")}]`;
  if (typeof v === "string") {
    // Alloy's strings take Go's escapes; JSON's are a subset of them (\", \\, \n, \t, \uXXXX).
    return JSON.stringify(v);
  }
  if (typeof v === "number" && !Number.isFinite(v)) programmingError(`Alloy has no ${v}`);
  return String(v);
}

function blockText(block: AlloyBlock, indent: string): string {
  if (!BLOCK_NAME.test(block.name)) programmingError(`invalid Alloy block name ${JSON.stringify(block.name)}`);
  // Alloy's own formatter (alloy fmt) indents with tabs and separates sibling blocks by a blank line.
  const inner = `${indent}\t`;
  const attributes = block.attributes ?? [];
  const width = Math.max(0, ...attributes.map(([k]) => k.length));
  const lines = attributes.map(([k, v]) => {
    if (!IDENTIFIER.test(k)) programmingError(`invalid Alloy attribute name ${JSON.stringify(k)}`);
    return `${inner}${k.padEnd(width)} = ${value(v)}`;
  });
  const children = (block.blocks ?? []).flatMap((b, i) => [...(i > 0 ? [""] : []), blockText(b, inner)]);
  const body = [...lines, ...(lines.length > 0 && children.length > 0 ? [""] : []), ...children];
  const head = `${indent}${block.name}${block.label !== undefined ? ` ${JSON.stringify(block.label)}` : ""} {`;
  return body.length === 0 ? `${head} }` : [head, ...body, `${indent}}`].join("\n");
}

/** The configuration text of a list of top-level blocks, with a comment heading it. */
export function alloySyntax(blocks: AlloyBlock[], comment: string[] = []): string {
  return [...comment.map((c) => `// ${c}`), ...(comment.length > 0 ? [""] : []), blocks.map((b) => blockText(b, "")).join("\n\n"), ""].join(
    "\n",
  );
}

/** A relabelling rule as an Alloy `rule` block (same fields and semantics as Prometheus'). */
export function ruleBlock(rule: RelabelRule): AlloyBlock {
  const attributes: Array<[string, AlloyValue]> = [];
  if (rule.source_labels) attributes.push(["source_labels", rule.source_labels]);
  if (rule.separator !== undefined) attributes.push(["separator", rule.separator]);
  if (rule.regex !== undefined) attributes.push(["regex", rule.regex]);
  if (rule.target_label !== undefined) attributes.push(["target_label", rule.target_label]);
  if (rule.replacement !== undefined) attributes.push(["replacement", rule.replacement]);
  if (rule.action !== undefined) attributes.push(["action", rule.action]);
  return { name: "rule", attributes };
}
