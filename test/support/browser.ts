// A real browser for tests: Debian's chromium driven by playwright-core (which downloads nothing).
// When chromium is missing it is installed with apt-get (after an apt-get update if the first try
// fails); when that is impossible the test fails with the reason, it never skips.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { APT_LOCK_WAIT } from './apt.js';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', (error) => resolve({ code: null, output: output + String(error) }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

export async function ensureChromium(): Promise<void> {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() !== 0)
    throw new Error(`chromium is not installed (${CHROMIUM} is missing); run: sudo apt-get install -y chromium`);
  const install = () => run('apt-get', [...APT_LOCK_WAIT, 'install', '-y', 'chromium']);
  let result = await install();
  if (result.code !== 0) {
    const update = await run('apt-get', [...APT_LOCK_WAIT, 'update']);
    if (update.code !== 0) throw new Error(`apt-get update failed; cannot install chromium:\n${update.output.slice(-3000)}`);
    result = await install();
  }
  if (result.code !== 0 || !existsSync(CHROMIUM)) throw new Error(`apt-get install chromium failed:\n${result.output.slice(-3000)}`);
}

export async function launchChromium(): Promise<Browser> {
  await ensureChromium();
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 60_000 });
}
