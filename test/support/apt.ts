// Debian packages for tests and benchmarks: installed with apt-get when missing (as root, from
// Debian's archive), waiting for dpkg's lock when another install runs (a parallel test file)
// instead of failing on it.

import { execFileSync } from 'node:child_process';

function installed(pkg: string): boolean {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes(
      'install ok installed',
    );
  } catch {
    return false;
  }
}

/** apt-get's options to wait up to ten minutes for dpkg's lock. */
export const APT_LOCK_WAIT = ['-o', 'DPkg::Lock::Timeout=600'];

/** Installs the Debian packages that are missing (needs root and Debian's archive). */
export function ensureDebianPackages(packages: string[]): void {
  const missing = packages.filter((p) => !installed(p));
  if (missing.length === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args: string[]) =>
    execFileSync('apt-get', [...APT_LOCK_WAIT, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 900_000 });
  const install = () => apt(['install', '-y', '--no-install-recommends', ...missing]);
  try {
    install();
  } catch {
    try {
      apt(['update']);
      install();
    } catch (error) {
      const output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
      throw new Error(`cannot install ${missing.join(', ')} with apt-get: ${(error as Error).message}\n${output.slice(-3000)}`);
    }
  }
}
