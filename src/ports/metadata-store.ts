// Kept only so that the type imports of src/http, which is being rewritten at the same time, keep
// compiling: the metadata store is now small repositories (metadata-database.ts). Import from
// users.ts and tokens.ts instead; delete this file once nothing imports it.

export type { TokenPrincipal, TokenRecord } from './tokens.js';
export type { User } from './users.js';
