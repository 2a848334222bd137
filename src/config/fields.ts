// The kinds of settings every part of the configuration schema uses. Values from the environment
// and from flags arrive as text, so numbers, booleans, sizes and lists also accept their text form.

import { existsSync } from 'node:fs';
import proxyAddr from '@fastify/proxy-addr';
import { z } from 'zod';
import { tryParseCratePattern } from '../domain/crate-pattern.js';

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1000,
  kib: 1024,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

function parseSize(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(value);
  if (!m) return value;
  const unit = SIZE_UNITS[(m[2] || 'b').toLowerCase()];
  return unit === undefined ? value : Number(m[1]) * unit;
}

const fromText = (convert: (text: string) => unknown) => (value: unknown) => (typeof value === 'string' ? convert(value.trim()) : value);

const commaList = fromText((t) => (t === '' ? [] : t.split(',').map((s) => s.trim())));

export const text = () => z.string({ error: 'expected a string' }).min(1, { error: 'must not be empty' });

export const integer = (min: number, max: number) =>
  z.preprocess(
    fromText((t) => (/^-?\d+$/.test(t) ? Number(t) : t)),
    z
      .number({ error: `expected an integer from ${min} to ${max}` })
      .int()
      .min(min)
      .max(max),
  );

export const boolean = () =>
  z.preprocess(
    fromText((t) => ({ true: true, false: false, '1': true, '0': false })[t.toLowerCase()] ?? t),
    z.boolean({ error: 'expected true or false' }),
  );

export const size = () =>
  z.preprocess(parseSize, z.number({ error: 'expected a size such as 10MiB or a number of bytes' }).int().positive());

export const list = () => z.preprocess(commaList, z.array(z.string(), { error: 'expected a list of strings' }));

/** Addresses, CIDR ranges and proxy-addr's names (`loopback`...), as http/client-address.ts reads them. */
export const proxyAddresses = () =>
  list().superRefine((entries, ctx) => {
    try {
      proxyAddr.compile(entries);
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        message: `${(error as Error).message}; expected addresses, CIDR ranges, "loopback", "linklocal" or "uniquelocal"`,
      });
    }
  });

/** Crate names or prefixes ending in `*`, as domain/crate-pattern.ts reads them. */
export const cratePatterns = () =>
  z.preprocess(
    commaList,
    z.array(
      z
        .string()
        .refine((p) => tryParseCratePattern(p) !== undefined, { error: 'expected a crate name, or a prefix ending in * (e.g. "serde*")' }),
      { error: 'expected a list of crate names or prefixes ending in *' },
    ),
  );

export const httpUrl = () =>
  text().refine(
    (value) => {
      try {
        const url = new URL(value);
        return (url.protocol === 'http:' || url.protocol === 'https:') && !url.search && !url.hash;
      } catch {
        return false;
      }
    },
    { error: 'expected an http:// or https:// URL without query or fragment' },
  );

export const existingFile = () => text().refine((path) => existsSync(path), { error: 'no such file' });

const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration such as "30s", "10m", "8h" or "30d", as milliseconds, from `min` to `max` (in ms). */
export const duration = (min: number, max: number) =>
  z.preprocess(
    fromText((t) => {
      const m = /^(\d+)\s*([smhd])$/i.exec(t);
      return m ? Number(m[1]) * DURATION_UNITS[m[2]!.toLowerCase()]! : t;
    }),
    z
      .number({ error: 'expected a duration such as "30s", "10m", "8h" or "30d"' })
      .int()
      .min(min, { error: `must be at least ${min / 1000} s` })
      .max(max, { error: `must be at most ${max / 86_400_000} days` }),
  );
