// API tokens: 256 random bits behind a recognisable prefix, with a checksum so that secret scanners
// (and we) can tell a real token from a random string without a database. Only the SHA-256 of a
// token is ever stored; a token is high-entropy, so a fast hash is the right one.

import { hash, randomBytes } from 'node:crypto';

export const TOKEN_PREFIX = 'ckt_';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 43; // 62^43 > 2^256
const CHECKSUM_LENGTH = 6; // 62^6 > 2^32
const TOKEN_LENGTH = TOKEN_PREFIX.length + BODY_LENGTH + CHECKSUM_LENGTH;

function toBase62(value: bigint, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(value % 62n)] + out;
    value /= 62n;
  }
  return out;
}

function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) {
    crc ^= text.charCodeAt(i);
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

export function generateToken(): string {
  const body = toBase62(BigInt('0x' + randomBytes(32).toString('hex')), BODY_LENGTH);
  return TOKEN_PREFIX + body + toBase62(BigInt(crc32(body)), CHECKSUM_LENGTH);
}

/** Cheap shape and checksum test, done before any lookup. */
export function isWellFormedToken(token: string): boolean {
  if (token.length !== TOKEN_LENGTH || !token.startsWith(TOKEN_PREFIX)) return false;
  const body = token.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + BODY_LENGTH);
  const checksum = token.slice(TOKEN_PREFIX.length + BODY_LENGTH);
  for (const ch of body) if (!ALPHABET.includes(ch)) return false;
  return toBase62(BigInt(crc32(body)), CHECKSUM_LENGTH) === checksum;
}

export function hashToken(token: string): string {
  return hash('sha256', token, 'hex');
}

/**
 * The token in an `Authorization` header. cargo sends the token as-is; other tools send
 * `Bearer <token>`; both are accepted.
 */
export function tokenFromAuthorizationHeader(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value.length === 0) return undefined;
  const space = value.indexOf(' ');
  if (space !== -1 && value.slice(0, space).toLowerCase() === 'bearer') return value.slice(space + 1).trim();
  return value;
}
