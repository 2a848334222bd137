// Certificates for the auth proxy, built with node:crypto keys (ECDSA P-256) and the ASN.1 schemas
// of @peculiar/asn1-x509: a CA that is name-constrained to the configured registry hosts (so that
// trusting it lets it vouch for nothing else), and leaf certificates for one host each.

import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  GeneralSubtree,
  GeneralSubtrees,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  NameConstraints,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_nameConstraints,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_serverAuth,
} from '@peculiar/asn1-x509';

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const COMMON_NAME = '2.5.4.3';
/** A permitted DNS subtree that no real name falls in (RFC 2606), for a CA constrained to IP addresses only. */
const NO_DNS_NAME = 'invalid';

export function toPem(der: ArrayBuffer | Buffer, label: string): string {
  const base64 = Buffer.from(der as ArrayBuffer).toString('base64');
  return `-----BEGIN ${label}-----\n${base64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

export function fromPem(pem: string, label: string): Buffer {
  const m = new RegExp(`-----BEGIN ${label}-----([^-]+)-----END ${label}-----`).exec(pem);
  if (!m) throw new Error(`no ${label} in PEM text`);
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}

export function generateKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

function commonName(cn: string): Name {
  return new Name([new RelativeDistinguishedName([new AttributeTypeAndValue({ type: COMMON_NAME, value: new AttributeValue({ utf8String: cn }) })])]);
}

function keyId(publicKey: KeyObject): Buffer {
  return createHash('sha1').update(publicKey.export({ type: 'spki', format: 'der' })).digest();
}

function extension(id: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID: id, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

function serialNumber(): ArrayBuffer {
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f; // positive
  bytes[0]! |= 0x01; // no leading zero byte to strip
  return new Uint8Array(bytes).buffer;
}

function signCertificate(tbs: TBSCertificate, issuerKey: KeyObject): string {
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature = sign('sha256', tbsDer, issuerKey);
  const certificate = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 }),
    signatureValue: new Uint8Array(signature).buffer,
  });
  return toPem(AsnConvert.serialize(certificate), 'CERTIFICATE');
}

function ipSubtree(host: string): string {
  return isIP(host) === 4 ? `${host}/32` : `${host}/128`;
}

/**
 * A CA certificate whose name constraints permit only the given hosts (and, as RFC 5280 defines
 * DNS subtrees, names below them). IP addresses are permitted one by one; with no IP host every IP
 * address is excluded, and with no DNS host only the reserved `.invalid` domain is permitted.
 */
export function createCaCertificate(hosts: string[], key: { privateKey: KeyObject; publicKey: KeyObject }, subject: string, days = 3650): string {
  const dns = [...new Set(hosts.filter((h) => isIP(h) === 0).map((h) => h.toLowerCase()))];
  const ips = [...new Set(hosts.filter((h) => isIP(h) !== 0))];
  if (dns.length + ips.length === 0) throw new Error('a proxy CA needs at least one host to be constrained to');
  const permitted = [
    ...(dns.length > 0 ? dns : [NO_DNS_NAME]).map((d) => new GeneralSubtree({ base: new GeneralName({ dNSName: d }) })),
    ...ips.map((ip) => new GeneralSubtree({ base: new GeneralName({ iPAddress: ipSubtree(ip) }) })),
  ];
  const excluded =
    ips.length === 0
      ? [new GeneralSubtree({ base: new GeneralName({ iPAddress: '0.0.0.0/0' }) }), new GeneralSubtree({ base: new GeneralName({ iPAddress: '::/0' }) })]
      : [];
  const name = commonName(subject);
  const now = Date.now();
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialNumber(),
    signature: new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 }),
    issuer: name,
    subject: name,
    validity: new Validity({ notBefore: new Date(now - 3600_000), notAfter: new Date(now + days * 86_400_000) }),
    subjectPublicKeyInfo: AsnConvert.parse(key.publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo),
    extensions: new Extensions([
      extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: true, pathLenConstraint: 0 })),
      extension(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)),
      extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyId(key.publicKey))),
      extension(
        id_ce_nameConstraints,
        true,
        new NameConstraints({
          permittedSubtrees: new GeneralSubtrees(permitted),
          ...(excluded.length > 0 ? { excludedSubtrees: new GeneralSubtrees(excluded) } : {}),
        }),
      ),
    ]),
  });
  return signCertificate(tbs, key.privateKey);
}

export interface IssuerCa {
  certPem: string;
  privateKey: KeyObject;
}

/**
 * A server certificate for one host (DNS name or IP address). The subject is empty and the names
 * are in a critical subjectAltName only, as RFC 5280 asks: a CN would be checked against the DNS
 * constraints by OpenSSL even for an IP address.
 */
export function issueLeafCertificate(ca: IssuerCa, host: string, leafPublicKey: KeyObject, days = 7): { certPem: string; notAfter: number } {
  const caCert = AsnConvert.parse(fromPem(ca.certPem, 'CERTIFICATE'), Certificate);
  const caKeyId = keyId(createPublicKey(ca.privateKey));
  const now = Date.now();
  const notAfter = now + days * 86_400_000;
  const san = isIP(host) !== 0 ? new GeneralName({ iPAddress: host }) : new GeneralName({ dNSName: host });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialNumber(),
    signature: new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 }),
    issuer: caCert.tbsCertificate.subject,
    subject: new Name([]),
    validity: new Validity({ notBefore: new Date(now - 3600_000), notAfter: new Date(notAfter) }),
    subjectPublicKeyInfo: AsnConvert.parse(leafPublicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo),
    extensions: new Extensions([
      extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: false })),
      extension(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.digitalSignature)),
      extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage([id_kp_serverAuth])),
      extension(id_ce_subjectAltName, true, new SubjectAlternativeName([san])),
      extension(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(caKeyId) })),
    ]),
  });
  return { certPem: signCertificate(tbs, ca.privateKey), notAfter };
}

/** The DNS names and IP ranges a CA certificate's name constraints permit (for warnings at start). */
export function permittedNames(certPem: string): { dns: string[]; ip: string[] } {
  const cert = AsnConvert.parse(fromPem(certPem, 'CERTIFICATE'), Certificate);
  const ext = cert.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_nameConstraints);
  if (!ext) return { dns: [], ip: [] };
  const nc = AsnConvert.parse(ext.extnValue, NameConstraints);
  const dns: string[] = [];
  const ip: string[] = [];
  for (const subtree of nc.permittedSubtrees ?? []) {
    if (subtree.base.dNSName !== undefined) dns.push(subtree.base.dNSName);
    if (subtree.base.iPAddress !== undefined) ip.push(subtree.base.iPAddress);
  }
  return { dns, ip };
}
