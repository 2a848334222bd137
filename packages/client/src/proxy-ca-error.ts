// The proxy CA's error, apart from proxy-ca-store.ts: client-errors.ts recognises it in every
// command, and importing the store would load its certificate code (@peculiar/x509) into each one,
// the credential provider cargo starts for every command and the registry server among them.

export class ProxyCaError extends Error {
  readonly code = 'PROXY_CA';
}
