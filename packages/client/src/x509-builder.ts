// Certificates for the auth proxy, built with @peculiar/x509 over WebCrypto (ECDSA P-256): a CA that
// is name-constrained to the configured registry hosts (so that trusting it lets it vouch for
// nothing else), and leaf certificates for one host each. @peculiar/x509 has no class for the
// name-constraints extension, so that one extension's value is built from the ASN.1 schema of
// @peculiar/asn1-x509 (which @peculiar/x509 itself is made of).
//
// Keys stay node:crypto KeyObjects for callers (they are written as PEM and given to node:tls);
// they are imported into WebCrypto only to sign. @peculiar/x509 signs with Node's global WebCrypto
// (globalThis.crypto).

import 'reflect-metadata'; // @peculiar/x509 resolves its ASN.1 converters through tsyringe, which needs it
import { createPublicKey, generateKeyPairSync, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralName, GeneralSubtree, GeneralSubtrees, NameConstraints, id_ce_nameConstraints } from '@peculiar/asn1-x509';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  Name,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate,
  X509CertificateGenerator,
} from '@peculiar/x509';

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' };
const ECDSA_SHA256 = { ...EC_P256, hash: 'SHA-256' };
/** A permitted DNS subtree that no real name falls in (RFC 2606), for a CA constrained to IP addresses only. */
const NO_DNS_NAME = 'invalid';
const DAY_MS = 86_400_000;

export function generateKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

function signingKey(privateKey: KeyObject): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', privateKey.export({ type: 'pkcs8', format: 'der' }), EC_P256, false, ['sign']);
}

function verifyingKey(publicKey: KeyObject): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('spki', publicKey.export({ type: 'spki', format: 'der' }), EC_P256, true, ['verify']);
}

/** 16 random bytes, positive, without a leading zero byte that DER would strip. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f;
  bytes[0]! |= 0x01;
  return bytes.toString('hex');
}

function ipSubtree(host: string): string {
  return isIP(host) === 4 ? `${host}/32` : `${host}/128`;
}

/** The critical name-constraints extension: only `dns` names (and below) and the `ips` one by one. */
function nameConstraints(dns: string[], ips: string[]): Extension {
  const permitted = [
    ...(dns.length > 0 ? dns : [NO_DNS_NAME]).map((d) => new GeneralSubtree({ base: new GeneralName({ dNSName: d }) })),
    ...ips.map((ip) => new GeneralSubtree({ base: new GeneralName({ iPAddress: ipSubtree(ip) }) })),
  ];
  const excluded =
    ips.length === 0
      ? [
          new GeneralSubtree({ base: new GeneralName({ iPAddress: '0.0.0.0/0' }) }),
          new GeneralSubtree({ base: new GeneralName({ iPAddress: '::/0' }) }),
        ]
      : [];
  const value = new NameConstraints({
    permittedSubtrees: new GeneralSubtrees(permitted),
    ...(excluded.length > 0 ? { excludedSubtrees: new GeneralSubtrees(excluded) } : {}),
  });
  return new Extension(id_ce_nameConstraints, true, AsnConvert.serialize(value));
}

/**
 * A CA certificate whose name constraints permit only the given hosts (and, as RFC 5280 defines
 * DNS subtrees, names below them). IP addresses are permitted one by one; with no IP host every IP
 * address is excluded, and with no DNS host only the reserved `.invalid` domain is permitted.
 */
export async function createCaCertificate(
  hosts: string[],
  key: { privateKey: KeyObject; publicKey: KeyObject },
  subject: string,
  days = 3650,
): Promise<string> {
  const dns = [...new Set(hosts.filter((h) => isIP(h) === 0).map((h) => h.toLowerCase()))];
  const ips = [...new Set(hosts.filter((h) => isIP(h) !== 0))];
  if (dns.length + ips.length === 0) throw new Error('a proxy CA needs at least one host to be constrained to');
  const publicKey = await verifyingKey(key.publicKey);
  const name = new Name([{ CN: [subject] }]);
  const now = Date.now();
  const certificate = await X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    issuer: name,
    subject: name,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + days * DAY_MS),
    signingAlgorithm: ECDSA_SHA256,
    publicKey,
    signingKey: await signingKey(key.privateKey),
    extensions: [
      new BasicConstraintsExtension(true, 0, true),
      new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
      await SubjectKeyIdentifierExtension.create(publicKey, false),
      nameConstraints(dns, ips),
    ],
  });
  return certificate.toString('pem');
}

export interface IssuerCa {
  certPem: string;
  privateKey: KeyObject;
}

/**
 * The authority key identifier for leaves of `ca`: the CA's own subject key identifier, as written
 * in its certificate (a CA made by an earlier version computed it differently, and OpenSSL refuses
 * a leaf whose identifier does not match its CA's), or one computed from its key if it has none.
 */
async function authorityKeyId(ca: X509Certificate): Promise<AuthorityKeyIdentifierExtension> {
  const ski = ca.getExtension(SubjectKeyIdentifierExtension);
  if (ski) return new AuthorityKeyIdentifierExtension(ski.keyId, false);
  return AuthorityKeyIdentifierExtension.create(await verifyingKey(createPublicKey(ca.toString('pem'))), false);
}

/**
 * A server certificate for one host (DNS name or IP address). The subject is empty and the names
 * are in a critical subjectAltName only, as RFC 5280 asks: a CN would be checked against the DNS
 * constraints by OpenSSL even for an IP address.
 */
export async function issueLeafCertificate(
  ca: IssuerCa,
  host: string,
  leafPublicKey: KeyObject,
  days = 7,
): Promise<{ certPem: string; notAfter: number }> {
  const caCert = new X509Certificate(ca.certPem);
  const now = Date.now();
  const notAfter = now + days * DAY_MS;
  const certificate = await X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    issuer: caCert.subjectName,
    subject: new Name([]),
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(notAfter),
    signingAlgorithm: ECDSA_SHA256,
    publicKey: await verifyingKey(leafPublicKey),
    signingKey: await signingKey(ca.privateKey),
    extensions: [
      new BasicConstraintsExtension(false, undefined, true),
      new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
      new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth], false),
      new SubjectAlternativeNameExtension([{ type: isIP(host) !== 0 ? 'ip' : 'dns', value: host }], true),
      await authorityKeyId(caCert),
    ],
  });
  return { certPem: certificate.toString('pem'), notAfter };
}

/** The DNS names and IP ranges a CA certificate's name constraints permit (for warnings at start). */
export function permittedNames(certPem: string): { dns: string[]; ip: string[] } {
  const ext = new X509Certificate(certPem).getExtension(id_ce_nameConstraints);
  if (!ext) return { dns: [], ip: [] };
  const nc = AsnConvert.parse(ext.value, NameConstraints);
  const dns: string[] = [];
  const ip: string[] = [];
  for (const subtree of nc.permittedSubtrees ?? []) {
    if (subtree.base.dNSName !== undefined) dns.push(subtree.base.dNSName);
    if (subtree.base.iPAddress !== undefined) ip.push(subtree.base.iPAddress);
  }
  return { dns, ip };
}
