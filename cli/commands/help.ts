/** Whether a command line asks for help (`--help`, `-h`): if so its usage is printed on stdout, and the command does nothing else. */
export function helpAsked(argv: readonly string[], usage: string): boolean {
  const asked = argv.includes("--help") || argv.includes("-h");
  if (asked) console.log(usage);
  return asked;
}
