import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { CHROMIUM_ARGS, ensureChromium } from '../helpers/chromium.js';
import { CHROMIUM } from '../helpers/debian.js';
import { TASKSET } from './procs.js';

/**
 * Chromium driven the way a page load is when nobody watches it: one raw DevTools connection over
 * `--remote-debugging-pipe`, and per load only `Target.createTarget`, `Target.attachToTarget`,
 * `Emulation.setDeviceMetricsOverride` (the viewport), `Page.navigate` and one `Runtime.evaluate` that awaits the page's own mark. No domain is enabled (no
 * Network, Page, Runtime or Log events, no auto-attach to the page's workers), so nothing about the load is
 * copied to this process. Playwright enables those domains on every page and on every worker it starts,
 * through the browser process, on the core the bench gives Chromium: that is the harness's cost this
 * driver leaves out.
 */
export interface BareChromium {
  /** A new tab, at about:blank, with nothing enabled on it; 1440x900 unless told. */
  newTab(viewport?: { width: number; height: number }): Promise<BareTab>;
  close(): Promise<void>;
}

export interface BareTab {
  /** Navigates and returns once the new document is committed (`Page.navigate`'s answer). */
  navigate(url: string): Promise<void>;
  /**
   * Evaluates `expression` (a promise-returning expression) in the tab's current document and returns its
   * value. Asked right after a navigation it may meet the document that was there before: `expression` is
   * expected to return null when `location.href` is not yet `url`, and it is asked again.
   */
  evaluateIn<T>(url: string, expression: string): Promise<T>;
  /** Any other command to the tab's session (`Performance.getMetrics`, `Emulation.setCPUThrottlingRate`...). */
  send(method: string, params?: object): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

interface Reply {
  id?: number;
  result?: Record<string, unknown>;
  error?: { message: string };
}

/** The page's viewport as `launchBrowser` gives Playwright's pages: the same layout, the same chart widths. */
const VIEWPORT = { width: 1440, height: 900, deviceScaleFactor: 1, mobile: false };

/**
 * `everyCore`: Chromium may run on every core of the machine, as a browser opened here does, instead of on
 * the one core this process is pinned to (the bench's servers keep theirs).
 */
export async function launchBareChromium(options: { everyCore?: boolean } = {}): Promise<BareChromium> {
  ensureChromium();
  const profile = mkdtempSync(join(tmpdir(), 'pulseboard-bare-chromium-'));
  const args = [...CHROMIUM_ARGS, `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank'];
  // taskset execs Chromium: the same pid, the same pipes.
  const [file, argv] =
    options.everyCore && TASKSET ? [TASKSET, ['-c', `0-${availableParallelism() - 1}`, CHROMIUM.binary, ...args]] : [CHROMIUM.binary, args];
  const child: ChildProcess = spawn(
    file,
    argv,
    // fd 3: what Chromium reads (our commands); fd 4: what it writes (answers); each message ends with a NUL.
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const commands = child.stdio[3] as Writable;
  const answers = child.stdio[4] as Readable;
  const pending = new Map<number, { resolve: (reply: Reply) => void }>();
  let nextId = 1;
  let buffered = '';
  answers.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let end = buffered.indexOf('\0'); end !== -1; end = buffered.indexOf('\0')) {
      const reply = JSON.parse(buffered.slice(0, end)) as Reply;
      buffered = buffered.slice(end + 1);
      if (reply.id === undefined) continue; // an event: none is asked for but Target's own
      pending.get(reply.id)?.resolve(reply);
      pending.delete(reply.id);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => {
    for (const { resolve } of pending.values()) resolve({ error: { message: `chromium exited: ${stderr}` } });
    pending.clear();
  });

  const send = async (method: string, params: object = {}, sessionId?: string): Promise<Record<string, unknown>> => {
    const id = nextId++;
    const reply = await new Promise<Reply>((resolve) => {
      pending.set(id, { resolve });
      commands.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
    if (reply.error) throw new Error(`${method}: ${reply.error.message}`);
    return reply.result ?? {};
  };

  await send('Browser.getVersion'); // the pipe is up

  return {
    async newTab(viewport) {
      const { targetId } = (await send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
      const { sessionId } = (await send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
      // A headless window's viewport is its size less a frame; this sets it as Playwright does (no events follow).
      await send('Emulation.setDeviceMetricsOverride', { ...VIEWPORT, ...viewport }, sessionId);
      return {
        send: (method, params) => send(method, params, sessionId),
        async navigate(url) {
          const result = (await send('Page.navigate', { url }, sessionId)) as { errorText?: string };
          if (result.errorText) throw new Error(`navigate ${url}: ${result.errorText}`);
        },
        async evaluateIn<T>(url: string, expression: string): Promise<T> {
          for (let attempt = 0; attempt < 200; attempt++) {
            let result: { result?: { value?: unknown }; exceptionDetails?: { text: string } };
            try {
              result = (await send(
                'Runtime.evaluate',
                { expression, awaitPromise: true, returnByValue: true },
                sessionId,
              )) as typeof result;
            } catch (error) {
              // The document it ran in went away (the navigation committed meanwhile): ask the new one.
              if (/context|destroyed|navigat/i.test(String(error))) continue;
              throw error;
            }
            if (result.exceptionDetails) throw new Error(`evaluate: ${result.exceptionDetails.text}`);
            if (result.result?.value !== null && result.result?.value !== undefined) return result.result.value as T;
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          throw new Error(`evaluate: ${url} never became the tab's document`);
        },
        async close() {
          await send('Target.closeTarget', { targetId });
        },
      };
    },
    async close() {
      try {
        await Promise.race([send('Browser.close'), exited]);
      } catch {
        child.kill();
      }
      await exited;
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * An expression for `evaluateIn`: once the document is `url`, the mark's start time (ms since the navigation)
 * as soon as it is set; null while another document is still there.
 */
export function markExpression(url: string, mark: string): string {
  return `location.href !== ${JSON.stringify(url)} ? null : new Promise((resolve) => {
    const seen = performance.getEntriesByName(${JSON.stringify(mark)})[0];
    if (seen) return resolve(seen.startTime);
    new PerformanceObserver((list, observer) => {
      const entry = list.getEntriesByName(${JSON.stringify(mark)})[0];
      if (!entry) return;
      observer.disconnect();
      resolve(entry.startTime);
    }).observe({ type: 'mark' });
  })`;
}
