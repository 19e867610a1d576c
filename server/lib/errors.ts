/** An error's message cut to its first line: what a one-line log entry or a health reason shows. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

/**
 * Text that came from outside (an argument, a file, the network) made fit for one line of a terminal or a
 * log: control characters (CR, LF, NUL, ESC ...) are shown escaped, as in JSON, instead of acting.
 */
export function oneLine(text: string): string {
  let line = '';
  for (const char of text) {
    if (char === '\x7f') line += '\\u007f';
    else line += char < ' ' ? JSON.stringify(char).slice(1, -1) : char;
  }
  return line;
}
