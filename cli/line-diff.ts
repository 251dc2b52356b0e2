/**
 * A unified diff of two texts by lines (`diff -u`'s form: `---`/`+++` headers, `@@ -a,b +c,d @@`
 * hunks with three lines of context), from their longest common subsequence. For files of a few
 * hundred lines, such as a stack file: the table is lines × lines.
 */

/** The lines of a text, without their line breaks; a last line break ends the last line, it does not start one. */
function linesOf(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

type Op = { kind: " " | "-" | "+"; line: string; a: number; b: number };

/** The edit script from a to b: every line kept, removed or added, in order, with its line numbers (0-based). */
function editScript(a: string[], b: string[]): Op[] {
  // lcs[i][j]: the length of the longest common subsequence of a[i..] and b[j..].
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ kind: " ", line: a[i], a: i++, b: j++ });
    // What goes comes before what replaces it, as diff -u shows a changed line.
    else if (i < a.length && (j === b.length || lcs[i + 1][j] >= lcs[i][j + 1])) ops.push({ kind: "-", line: a[i], a: i++, b: j });
    else ops.push({ kind: "+", line: b[j], a: i, b: j++ });
  }
  return ops;
}

/** `start,count` as a hunk header writes it: 1-based, and the line before when the range is empty. */
function range(start: number, count: number): string {
  return `${count === 0 ? start : start + 1},${count}`;
}

/** The unified diff from `before` to `after`, named `name` on both sides; empty when they are the same. */
export function unifiedDiff(before: string, after: string, name: string, context = 3): string {
  if (before === after) return "";
  const ops = editScript(linesOf(before), linesOf(after));
  const changed = ops.flatMap((op, k) => (op.kind === " " ? [] : [k]));
  if (changed.length === 0) return ""; // only the last line break differs
  const out = [`--- ${name}`, `+++ ${name}`];
  let k = 0;
  while (k < changed.length) {
    // A hunk: the changes whose context overlaps, with `context` kept lines either side.
    let last = k;
    while (last + 1 < changed.length && changed[last + 1] - changed[last] <= 2 * context) last++;
    const from = Math.max(0, changed[k] - context);
    const to = Math.min(ops.length - 1, changed[last] + context);
    const hunk = ops.slice(from, to + 1);
    const aCount = hunk.filter((op) => op.kind !== "+").length;
    const bCount = hunk.filter((op) => op.kind !== "-").length;
    out.push(`@@ -${range(hunk[0].a, aCount)} +${range(hunk[0].b, bCount)} @@`);
    for (const op of hunk) out.push(`${op.kind}${op.line}`);
    k = last + 1;
  }
  return `${out.join("\n")}\n`;
}
