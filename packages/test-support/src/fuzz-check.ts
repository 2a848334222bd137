// Runs a fast-check property the same way in every fuzz test: a fixed seed by default (so that CI
// is reproducible), FUZZ_SEED / FUZZ_RUNS / FUZZ_PATH from the environment to explore or replay,
// and on failure an error that names the seed, the path and the command that replays it.

import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';

/** The seed every fuzz test uses unless FUZZ_SEED says otherwise. */
export const DEFAULT_FUZZ_SEED = 20_261_124;

function envInteger(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, not ${JSON.stringify(raw)}`);
  return value;
}

export interface FuzzSettings {
  seed: number;
  numRuns: number;
  path: string | undefined;
}

/** The settings for one property whose default run count is `defaultRuns`. */
export function fuzzSettings(defaultRuns: number): FuzzSettings {
  return {
    seed: envInteger('FUZZ_SEED') ?? DEFAULT_FUZZ_SEED,
    numRuns: envInteger('FUZZ_RUNS') ?? defaultRuns,
    path: process.env.FUZZ_PATH || undefined,
  };
}

export interface CheckOptions<Ts = unknown> {
  /** Runs when FUZZ_RUNS is not set. */
  runs: number;
  /** The test file (import.meta.url), for the replay command. */
  file: string;
  /** The test's name, for --test-name-pattern in the replay command. */
  name: string;
  /** Inputs checked on every run, whatever the seed: the counterexamples of bugs found so far. */
  examples?: Ts[];
}

function replayCommand(options: CheckOptions<unknown>, seed: number, path: string): string {
  const file = relative(process.cwd(), fileURLToPath(options.file));
  const pattern = options.name.replace(/[.*+?^${}()|[\]\\"]/g, '\\$&');
  return `FUZZ_SEED=${seed} FUZZ_PATH=${path} node --test --test-name-pattern="${pattern}" ${file}`;
}

/** Checks `property`; on failure throws with the counterexample, the seed, the path and the replay command. */
export async function checkProperty<Ts>(property: fc.IAsyncProperty<Ts> | fc.IProperty<Ts>, options: CheckOptions<Ts>): Promise<void> {
  const settings = fuzzSettings(options.runs);
  const details = await fc.check(property as fc.IAsyncProperty<Ts>, {
    seed: settings.seed,
    numRuns: settings.numRuns,
    ...(options.examples ? { examples: options.examples } : {}),
    ...(settings.path !== undefined ? { path: settings.path } : {}),
  });
  if (!details.failed) return;
  const failure = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  const report = `${fc.defaultReportMessage(details) ?? 'the property failed'}\n\nGot error: ${failure}`;
  const path = details.counterexamplePath ?? '(none)';
  const error = new Error(
    `${report}\n\nfuzz seed ${details.seed}, path ${path}; replay after \`npx tsc -p tsconfig.json\` with:\n  ${replayCommand(options, details.seed, path)}`,
  );
  if (details.errorInstance instanceof Error) error.cause = details.errorInstance;
  throw error;
}
