// The npm registry reachable from our machines serves workerd's Linux binaries but not its macOS
// and Windows ones, so `npm install` here drops those optional entries from package-lock.json and
// `npm ci` then refuses the lockfile as out of sync. This puts the entries back (platform-gated,
// so no machine downloads a binary it cannot run). Run after every `npm install`:
//   node .ci/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const platforms = {
  'darwin-64': { os: ['darwin'], cpu: ['x64'] },
  'darwin-arm64': { os: ['darwin'], cpu: ['arm64'] },
  'windows-64': { os: ['win32'], cpu: ['x64'] },
};
let added = 0;
for (const [key, entry] of Object.entries(lock.packages)) {
  if (!key.endsWith('@cloudflare/workerd-linux-64')) continue;
  for (const [platform, gate] of Object.entries(platforms)) {
    const sibling = key.replace(/workerd-linux-64$/, `workerd-${platform}`);
    if (lock.packages[sibling]) continue;
    const { integrity: _integrity, os: _os, cpu: _cpu, ...rest } = entry;
    lock.packages[sibling] = { ...rest, ...gate };
    added += 1;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) =>
    a === '' ? -1 : b === '' ? 1 : a.localeCompare(b),
  ),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} platform entries`);
