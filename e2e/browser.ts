import fs from 'node:fs';
import { chromium } from 'playwright-core';

/** The flags DEVELOPERS.md fixes for Chromium on these machines, whose network is closed. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/**
 * Playwright's own Chromium when it is installed, else Debian's; undefined when neither is present.
 */
export function chromiumExecutable(): string | undefined {
  const own = chromium.executablePath();
  if (own && fs.existsSync(own)) return own;
  if (fs.existsSync(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  return undefined;
}
