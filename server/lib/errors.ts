/** An error's message cut to its first line: what a one-line log entry or a health reason shows. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
