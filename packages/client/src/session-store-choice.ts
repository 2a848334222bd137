// Which store holds the sessions: `CRATEKEEPER_SESSION_STORE=keyring` or `file` decides; unset (or
// `auto`), the OS keyring where one is usable (macOS; Linux with `secret-tool` and a D-Bus session bus,
// i.e. a desktop session), else the 0600 file. A headless server or CI image gets the file.

import { clientConfigDir, SessionStoreError, type SessionStore } from './session-store.js';
import { FileSessionStore } from './session-file-store.js';
import { findOnPath, KeychainSessionStore, SecretToolSessionStore } from './session-keyring-store.js';

function keyringStore(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): SessionStore | undefined {
  if (platform === 'darwin') {
    const security = findOnPath('security', env) ?? '/usr/bin/security';
    return new KeychainSessionStore(security, env);
  }
  const secretTool = findOnPath('secret-tool', env);
  if (secretTool !== undefined && (env.DBUS_SESSION_BUS_ADDRESS ?? '') !== '') return new SecretToolSessionStore(secretTool, env);
  return undefined;
}

export function openSessionStore(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): SessionStore {
  const choice = (env.CRATEKEEPER_SESSION_STORE ?? 'auto').toLowerCase();
  const file = () => new FileSessionStore(clientConfigDir(env));
  switch (choice) {
    case 'file':
      return file();
    case 'keyring': {
      const store = keyringStore(env, platform);
      if (store === undefined) {
        throw new SessionStoreError(
          'CRATEKEEPER_SESSION_STORE=keyring, but no keyring is usable here (Linux needs `secret-tool` from libsecret-tools and a D-Bus session bus)',
        );
      }
      return store;
    }
    case 'auto':
    case '':
      return keyringStore(env, platform) ?? file();
    default:
      throw new SessionStoreError(`CRATEKEEPER_SESSION_STORE=${choice}: expected keyring, file or auto`);
  }
}
