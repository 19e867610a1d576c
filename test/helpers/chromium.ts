import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { CHROMIUM, ensureDebianTools } from './debian.js';

/** Debian's Chromium is the only browser that works here (downloads are blocked). */
export function ensureChromium(): void {
  ensureDebianTools([CHROMIUM]);
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A fresh Chromium with a fresh profile (`--user-data-dir`), removed on close. */
export async function launchBrowser(
  options: { viewport?: { width: number; height: number }; ignoreHTTPSErrors?: boolean } = {},
): Promise<Browser> {
  ensureChromium();
  const profile = mkdtempSync(join(tmpdir(), 'pulseboard-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM.binary,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: options.viewport ?? { width: 1440, height: 900 },
    ignoreHTTPSErrors: options.ignoreHTTPSErrors ?? false,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
