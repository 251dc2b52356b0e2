/** Starting a live lab: what failed, with the lab's diagnostics, after stopping what it had started. */
export async function bootOrStop<T extends { diagnostics(): string; stop(): Promise<void> }>(
  lab: T,
  boot: () => Promise<void>,
): Promise<T> {
  try {
    await boot();
  } catch (err) {
    const message = `${err instanceof Error ? err.message : String(err)}\n${lab.diagnostics()}`;
    await lab.stop();
    throw new Error(message);
  }
  return lab;
}
