// What a doctor check reports: one finding per thing looked at, with a status, the problem in
// plain words, and the exact fix (a TOML line and the file it goes in, or a command to run).

export type FindingStatus = 'ok' | 'warning' | 'error';

export interface Finding {
  status: FindingStatus;
  /** The registry the finding is about; undefined for cargo-wide findings (cargo's version). */
  registry?: string;
  /** A short name of the check: `cargo`, `index`, `credential-provider`, `token`, `tls`, ... */
  check: string;
  message: string;
  fix?: string;
}

export const ok = (check: string, message: string, registry?: string): Finding => ({ status: 'ok', check, message, registry });

export const warning = (check: string, message: string, fix?: string, registry?: string): Finding => ({
  status: 'warning',
  check,
  message,
  fix,
  registry,
});

export const error = (check: string, message: string, fix?: string, registry?: string): Finding => ({
  status: 'error',
  check,
  message,
  fix,
  registry,
});
