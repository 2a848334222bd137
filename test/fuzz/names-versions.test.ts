// Fuzzes the crate-name, index-path and version rules against oracles written independently in
// test/support/fuzz-names.ts: validation accepts exactly what the rules allow and refuses
// everything else with a typed error; an index path maps back to the one name it was made from
// and to nothing else; version precedence is a consistent order.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  crateNameFromIndexPath,
  indexPathOf,
  isPlausibleCrateName,
  normalizeCrateName,
  parseCrateName,
} from '../../src/domain/crate-name.js';
import { RegistryError } from '../../src/domain/errors.js';
import { compareVersions, MAX_VERSION_LENGTH, parseVersion, tryParseVersion, versionKey } from '../../src/domain/version.js';
import { checkProperty } from '@cratekeeper/test-support/fuzz-check';
import { edgeNameArb, edgeVersionArb, isReservedName, isSemver, nameFollowsRules, validNameArb } from '../support/fuzz-names.js';

const file = import.meta.url;
const anyInput = fc.oneof(edgeNameArb, fc.string({ unit: 'grapheme', maxLength: 70 }), fc.anything());

function refusal(fn: () => unknown): RegistryError | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof RegistryError, `threw something else than a RegistryError: ${String(error)}`);
    assert.equal(error.kind, 'invalid');
    assert.ok(error.message.length > 0);
    return error;
  }
}

/** A path that differs from `path` in one way a client might try. */
const pathMutation = fc.constantFrom(
  (p: string) => p.toUpperCase(),
  (p: string) => `/${p}`,
  (p: string) => `${p}/`,
  (p: string) => p.replace('/', '//'),
  (p: string) => p.replace(/\//g, '\\'),
  (p: string) => `x${p}`,
  (p: string) => `${p}x`,
  (p: string) => p.replace(/^[^/]+/, (s) => s.split('').reverse().join('')),
  (p: string) => `../${p}`,
  (p: string) => p.replace(/\/[^/]+$/, (s) => s.replace(/-/g, '_')),
);

describe('fuzz: crate names, index paths and versions', () => {
  it('crate names: accepted exactly when the rules allow, else a typed refusal', async () => {
    await checkProperty(
      fc.property(anyInput, (input) => {
        const error = refusal(() => parseCrateName(input));
        const valid = typeof input === 'string' && nameFollowsRules(input);
        if (error === undefined) {
          assert.ok(valid, `accepted ${JSON.stringify(input)}`);
          assert.ok(!isReservedName(input as string), `accepted the reserved name ${JSON.stringify(input)}`);
        } else if (valid && !isReservedName(input as string)) {
          // Only the reserved list (longer than the oracle's) may refuse a name that follows the rules.
          assert.equal(error.code, 'reserved-crate-name', `refused ${JSON.stringify(input)}: ${error.message}`);
        }
        if (typeof input === 'string') assert.equal(isPlausibleCrateName(input), nameFollowsRules(input), JSON.stringify(input));
      }),
      { runs: 5000, file, name: 'crate names' },
    );
  });

  it('normalized names: idempotent, and every spelling of a name (case, - or _) normalizes alike', async () => {
    const respelled = validNameArb.chain((name) =>
      fc.tuple(
        fc.constant(name),
        fc.array(fc.boolean(), { minLength: name.length, maxLength: name.length }).map((flips) =>
          name
            .split('')
            .map((ch, i) =>
              !flips[i] ? ch : ch === '-' ? '_' : ch === '_' ? '-' : ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase(),
            )
            .join(''),
        ),
      ),
    );
    await checkProperty(
      fc.property(respelled, ([name, other]) => {
        const normal = normalizeCrateName(name);
        assert.equal(normalizeCrateName(normal), normal);
        assert.equal(normalizeCrateName(other), normal, `${other} vs ${name}`);
      }),
      { runs: 3000, file, name: 'normalized names' },
    );
  });

  it('index paths: a name round-trips through its path, and no other path maps to it', async () => {
    await checkProperty(
      fc.property(validNameArb, pathMutation, (name, mutate) => {
        const path = indexPathOf(name);
        assert.equal(crateNameFromIndexPath(path), name.toLowerCase(), path);
        assert.equal(path, path.toLowerCase());
        // Another path may name another crate (its own path), never this one.
        const other = mutate(path);
        if (other !== path)
          assert.notEqual(crateNameFromIndexPath(other), name.toLowerCase(), `${JSON.stringify(other)} answered as crate ${name}`);
      }),
      { runs: 3000, file, name: 'index paths: a name round-trips' },
    );
  });

  it("index paths: any string maps to a crate only when it is that crate's own path", async () => {
    const pathLike = fc.oneof(
      fc.string({ unit: 'binary-ascii', maxLength: 80 }),
      fc
        .array(fc.oneof(fc.constantFrom('1', '2', '3', 'ab', 'cd', '..', '.', '', 'a'), validNameArb), { maxLength: 4 })
        .map((s) => s.join('/')),
    );
    await checkProperty(
      fc.property(pathLike, (path) => {
        const name = crateNameFromIndexPath(path);
        if (name !== undefined) {
          assert.ok(nameFollowsRules(name), `${JSON.stringify(path)} gave the invalid name ${JSON.stringify(name)}`);
          assert.equal(indexPathOf(name), path, `${JSON.stringify(path)} gave ${name}, whose path is ${indexPathOf(name)}`);
        }
      }),
      { runs: 5000, file, name: 'index paths: any string' },
    );
  });

  it('versions: parsed exactly when SemVer 2.0 allows, refused with a typed error otherwise', async () => {
    await checkProperty(
      fc.property(fc.oneof(edgeVersionArb, fc.anything()), (input) => {
        const error = refusal(() => parseVersion(input));
        const semver = typeof input === 'string' && isSemver(input);
        if (typeof input === 'string') {
          const parsed = tryParseVersion(input);
          assert.equal(parsed !== undefined, semver && input.length <= 256, `tryParseVersion(${JSON.stringify(input)})`);
        }
        assert.equal(
          error === undefined,
          semver && (input as string).length <= MAX_VERSION_LENGTH,
          `parseVersion(${JSON.stringify(input)}): ${error?.message}`,
        );
        if (error === undefined) {
          const v = parseVersion(input);
          const [core, ...rest] = (input as string).split(/[-+]/);
          assert.deepEqual([v.major, v.minor, v.patch], core!.split('.').map(BigInt));
          assert.equal(versionKey(v), (input as string).split('+')[0]);
          assert.ok(rest.length > 0 || v.pre.length === 0);
        }
      }),
      { runs: 5000, file, name: 'versions: parsed exactly' },
    );
  });

  it('versions: precedence is a total order that ignores build metadata', async () => {
    const version = edgeVersionArb.map((v) => tryParseVersion(v)).filter((v) => v !== undefined);
    const sign = (n: number) => Math.sign(n);
    await checkProperty(
      fc.property(version, version, version, (a, b, c) => {
        assert.equal(compareVersions(a, a), 0);
        assert.equal(sign(compareVersions(a, b)) + sign(compareVersions(b, a)), 0, `${a.raw} vs ${b.raw}`);
        assert.equal(compareVersions(a, b) === 0, versionKey(a) === versionKey(b), `${a.raw} vs ${b.raw}`);
        if (compareVersions(a, b) <= 0 && compareVersions(b, c) <= 0)
          assert.ok(compareVersions(a, c) <= 0, `${a.raw} <= ${b.raw} <= ${c.raw}`);
      }),
      { runs: 3000, file, name: 'versions: precedence' },
    );
  });
});
