// The public entry (`@cratekeeper/client/network`) for the network code that the server's mirror
// shares with the client toolkit: .netrc reading, auth patterns and per-host headers, the credential
// resolver, host keys and outgoing connections through HTTP or SOCKS proxies. Everything here is
// imported by both sides; anything not exported here is the toolkit's own business.

export { AuthConfigError, parseAuthConfig, type AuthConfig, type HeaderRule, type HostConfig, type Operation } from './auth-config.js';
export { AuthPatternError, parseAuthPattern, renderAuthPattern, type AuthPattern, type Credentials } from './auth-pattern.js';
export { CredentialResolver } from './credential-resolver.js';
export { formatHostPort, HostKeyError, hostKeyMatches, parseHostKey, urlHostPort, type HostKey } from './host-key.js';
export { NetrcPermissionError, readNetrcFile } from './netrc-file.js';
export { NetrcSyntaxError } from './netrc-lexer.js';
export { findNetrcMachine, netrcDefault, parseNetrc, type NetrcDocument, type NetrcEntry } from './netrc-parse.js';
export { makeConnector, UpstreamProxyError, type Connector } from './upstream-connector.js';
export { lockedRegistryPackages, policyCheck, PolicyCheckError, type PolicyCheckOptions } from './policy-check.js';
