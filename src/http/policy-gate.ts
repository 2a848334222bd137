// Where the supply-chain policy meets the download routes: a version with a `deny` finding is
// refused with cargo's error shape, naming the version and why (for quarantine, when it will be
// released), and the refusal is audited (`policy-refused`) and counted per rule for /metrics.

import { forbidden } from '../domain/errors.js';
import type { IndexFile } from '../domain/index-file.js';
import { refusalMessage, type PolicyEngine } from '../policy/policy-engine.js';
import type { PolicySource } from '../policy/version-rule.js';
import type { AuditRecorder } from '../services/audit-recorder.js';
import { auditSource, type Caller } from './audit-source.js';

export interface PolicyGate {
  engine: PolicyEngine;
  audit: AuditRecorder;
}

/** Throws `policy-refused` (403) when the policy denies this version of the crate (lower-case name). */
export async function assertDownloadAllowed(
  gate: PolicyGate,
  caller: Caller,
  source: PolicySource,
  crate: string,
  version: string,
  file: IndexFile | undefined,
): Promise<void> {
  if (file === undefined) return;
  const findings = await gate.engine.downloadRefusal(source, crate, version, file);
  if (findings === undefined) return;
  const message = refusalMessage(crate, version, findings);
  gate.audit.record('policy-refused', auditSource(caller), { crate, version, detail: message });
  throw forbidden('policy-refused', message);
}
