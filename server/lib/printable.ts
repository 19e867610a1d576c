/**
 * Text read from another process (a command line, a container name) made safe for a table cell, a label or
 * a log line: control characters become `?`, runs of white space one space, and past `max` it is cut with `…`.
 */
export function printable(text: string, max: number): string {
  // One regular expression, not a string built a character at a time: command lines run to kilobytes.
  const line = text.replace(CONTROL, '?').replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** C0 and C1 control characters (single UTF-16 units: no surrogate is one). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
