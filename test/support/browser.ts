/**
 * A real browser for the browser tests: Debian's Chromium driven by playwright-core, and the
 * small page servers that give its pages an origin of their own (the API's CORS allow-list names
 * origins, so a page must come from one).
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`), not a browser Playwright downloads. */
const CHROMIUM = '/usr/bin/chromium';

/**
 * Chromium without the sandbox (tests run as root in a container), the GPU, or any call home:
 * this machine has no outside network, and without these flags Chromium keeps trying Google's
 * hosts (QUIC, field trials, component and sync updates).
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Starts headless Chromium. Playwright gives each launch a fresh temporary profile
 * (`--user-data-dir`) and deletes it on `close()`, so no state carries over between runs.
 */
export async function launchChromium(): Promise<Browser> {
  try {
    await access(CHROMIUM, constants.X_OK);
  } catch {
    throw new Error(`${CHROMIUM} is required: \`apt-get install chromium\` (.ci/run installs it).`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

const PAGE = '<!doctype html><meta charset="utf-8"><title>Table Order test page</title>';

/** A page server on loopback: its origin, and how to stop it. */
export type PageServer = { origin: string; close(): Promise<void> };

/**
 * Serves an empty HTML page at every path on a free loopback port: the pages are blank, the
 * tests run their script in them, so what matters is the origin they are loaded from.
 */
export async function startPageServer(): Promise<PageServer> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(PAGE);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
