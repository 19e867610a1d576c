/**
 * Text read from another process (a command line, a container name) made safe for a table cell, a label or
 * a log line: control characters become `?`, runs of white space one space, and past `max` it is cut with `…`.
 */
export function printable(text: string, max: number): string {
  let line = '';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    line += code < 0x20 || (code >= 0x7f && code <= 0x9f) ? '?' : char;
  }
  line = line.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
