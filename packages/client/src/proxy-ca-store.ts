// Where the proxy's CA lives and how it is created and loaded: `ca.pem` (the certificate users give to
// cargo, git and curl) and `ca-key.pem` (mode 0600, in a folder of mode 0700), by default under
// ~/.config/cratekeeper/proxy/.

import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, homedir } from 'node:os';
import { join } from 'node:path';
import { ProxyCaError } from './proxy-ca-error.js';
import { createCaCertificate, generateKey } from './x509-builder.js';

export interface CaPaths {
  dir: string;
  cert: string;
  key: string;
}

/** The CA folder: --ca-dir, then $CRATEKEEPER_PROXY_CA_DIR, then ~/.config/cratekeeper/proxy. */
export function caPaths(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): CaPaths {
  const configHome = env.XDG_CONFIG_HOME || join(env.HOME ?? homedir(), '.config');
  const dir = explicit ?? env.CRATEKEEPER_PROXY_CA_DIR ?? join(configHome, 'cratekeeper', 'proxy');
  return { dir, cert: join(dir, 'ca.pem'), key: join(dir, 'ca-key.pem') };
}

/** Creates the CA for `hosts`; refuses to replace an existing one unless `force`. */
export async function initCa(paths: CaPaths, hosts: string[], force = false): Promise<void> {
  if (hosts.length === 0) {
    throw new ProxyCaError('no hosts to constrain the CA to: add [hosts."registry.example.com"] to the auth file, or pass --host');
  }
  if (!force && (existsSync(paths.cert) || existsSync(paths.key))) {
    throw new ProxyCaError(`${paths.dir} already holds a CA; pass --force to replace it (clients must then trust the new ca.pem)`);
  }
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const key = generateKey();
  const cert = await createCaCertificate(hosts, key, `cratekeeper proxy CA (${hostname()})`);
  writeFileSync(paths.key, key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
  chmodSync(paths.key, 0o600);
  writeFileSync(paths.cert, cert, { mode: 0o644 });
}

export interface LoadedCa {
  certPem: string;
  privateKey: KeyObject;
}

export function loadCa(paths: CaPaths): LoadedCa {
  if (!existsSync(paths.cert) || !existsSync(paths.key)) {
    throw new ProxyCaError(`no proxy CA in ${paths.dir}; create it with \`cratekeeper proxy init-ca\``);
  }
  const privateKey = createPrivateKey(readFileSync(paths.key, 'utf8'));
  const certPem = readFileSync(paths.cert, 'utf8');
  const matches = createPublicKey(privateKey)
    .export({ type: 'spki', format: 'der' })
    .equals(createPublicKey(certPem).export({ type: 'spki', format: 'der' }));
  if (!matches) throw new ProxyCaError(`${paths.key} is not the key of ${paths.cert}`);
  return { certPem, privateKey };
}
