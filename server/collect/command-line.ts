import { printable } from '../lib/printable.js';

/** Longest short command line shown; long enough for `postgres: autovacuum launcher`. */
export const MAX_COMMAND_LENGTH = 48;

const SCRIPT = /\.(?:[cm]?[jt]sx?|py|rb|pl|php|jar|sh|lua|exs?)$/;

const basename = (arg: string) => arg.slice(arg.lastIndexOf('/') + 1);

/**
 * The short form of a command line for tables, /metrics and alerts: `/usr/bin/node /app/server.js --port 80`
 * is `node server.js`, `postgres: checkpointer ` (a process that rewrote its title) stays as written,
 * `/usr/bin/pulseboard agent --redis ...` is `pulseboard agent`, and a kernel thread (empty cmdline) is
 * its `[comm]` as `ps` shows it. `cmdline` is /proc/<pid>/cmdline: arguments separated by NUL.
 */
export function shortCommand(cmdline: string, comm: string): string {
  let args = cmdline.split('\0').filter((arg) => arg !== '');
  const first = args[0];
  if (first === undefined) return clean(`[${comm}]`);
  if (args.length === 1 && first.includes(' ')) {
    // A rewritten title (`nginx: worker process`) stays; one that is still a command line (Chromium's
    // `/usr/lib/chromium/chromium --type=renderer ...`) is read as one.
    if (!first.startsWith('/')) return clean(first);
    args = first.split(' ').filter((arg) => arg !== '');
  }
  const program = basename(args[0] ?? first);
  const script = args.slice(1).find((arg) => !arg.startsWith('-') && SCRIPT.test(arg));
  if (script) return clean(`${program} ${basename(script)}`);
  const subcommand = args[1];
  if (subcommand !== undefined && /^[a-z][\w:.-]*$/i.test(subcommand)) return clean(`${program} ${subcommand}`);
  return clean(program);
}

const clean = (text: string) => printable(text, MAX_COMMAND_LENGTH);
