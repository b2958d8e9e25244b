/**
 * Asks one question at the terminal, on stderr so that stdout stays the command's output, and
 * answers what was typed, or undefined for Ctrl-C or Ctrl-D (no answer). readline is loaded only
 * when a question is asked: creating process.stdin costs milliseconds a command that asks
 * nothing has not got.
 */
export async function askAtTerminal(question: string): Promise<string | undefined> {
  const { createInterface } = await import('node:readline/promises');
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  // Closing alone would leave the question unsettled, and the process would end mid-await (exit 13).
  const giveUp = new AbortController();
  terminal.on('SIGINT', () => giveUp.abort()).on('close', () => giveUp.abort());
  try {
    return await terminal.question(question, { signal: giveUp.signal });
  } catch {
    return undefined;
  } finally {
    terminal.close();
  }
}
