// The tasks the CPU pool (services/cpu-pool.ts) runs on worker threads. Each task takes one
// structured-clonable argument; the pool calls them by name through `runTask`, the one entry it
// gives piscina (see there why). A RegistryError thrown by a task comes
// back as data (kind, code, message) so that the caller can throw the same typed error; anything
// else is a bug and crosses as an ordinary error.

import type { MessagePort } from 'node:worker_threads';
import { inspectCrateTarball, type CrateTarballLimits } from '../domain/crate-tarball.js';
import { unpackDocsArchive, type DocsArchiveLimits } from '../domain/docs-archive.js';
import { RegistryError } from '../domain/errors.js';
import { declaredLicenceOf, type DeclaredLicence } from '../domain/licence-policy.js';
import { readmeAsText, readmeFieldOf, renderReadmeHtml, type ReadmeRenderInput } from './readme-task.js';

export type TaskOutcome<V> = { ok: true; value: V } | { ok: false; error: { kind: string; code: string; message: string } };

async function outcomeOf<V>(work: () => V | Promise<V>): Promise<TaskOutcome<V>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    if (error instanceof RegistryError) return { ok: false, error: { kind: error.kind, code: error.code, message: error.message } };
    throw error;
  }
}

/** Answers with its argument: lets tests and the health check see that the pool runs. */
export function echo(value: string): Promise<TaskOutcome<string>> {
  return outcomeOf(() => value);
}

/** Checks a .crate (domain/crate-tarball.ts): what the publish service learns of it. */
export function inspectCrate(task: {
  crate: Uint8Array;
  expected: { name: string; version: string };
  limits: CrateTarballLimits;
}): Promise<TaskOutcome<{ fileCount: number; licence: DeclaredLicence }>> {
  return outcomeOf(async () => {
    const { fileCount, manifest } = await inspectCrateTarball(task.crate, task.expected, task.limits);
    return { fileCount, licence: declaredLicenceOf(manifest) };
  });
}

/** Checks and unpacks a rustdoc archive (domain/docs-archive.ts). */
export function unpackDocs(task: { archive: Uint8Array; limits: DocsArchiveLimits }) {
  return outcomeOf(() => unpackDocsArchive(task.archive, task.limits));
}

/** The README a packaged Cargo.toml names (workers/readme-task.ts). */
export function readmeField(manifest: string) {
  return outcomeOf(() => readmeFieldOf(manifest));
}

/** A README as safe HTML (workers/readme-task.ts). */
export function renderReadme(input: ReadmeRenderInput) {
  return outcomeOf(() => renderReadmeHtml(input));
}

/** A README that could not be rendered, as escaped text (workers/readme-task.ts). */
export function plainReadme(source: string) {
  return outcomeOf(() => readmeAsText(source));
}

/** Keeps its thread busy for `ms` milliseconds, then answers with `ms`: lets tests see time limits and order. */
export function spin(ms: number): Promise<TaskOutcome<number>> {
  return outcomeOf(() => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      // a CPU-bound loop, like a hostile input: only terminating the thread stops it early
    }
    return ms;
  });
}

export interface CpuTasks {
  echo: typeof echo;
  inspectCrate: typeof inspectCrate;
  unpackDocs: typeof unpackDocs;
  readmeField: typeof readmeField;
  renderReadme: typeof renderReadme;
  plainReadme: typeof plainReadme;
  spin: typeof spin;
}

const TASKS: CpuTasks = { echo, inspectCrate, unpackDocs, readmeField, renderReadme, plainReadme, spin };

/** What the pool sends: the task, its argument, and a port on which the task says it has started. */
export interface TaskEnvelope {
  name: keyof CpuTasks;
  arg: unknown;
  started: MessagePort;
}

/**
 * The one entry the pool calls. It says "started" before the task runs, so that the task's time
 * limit counts its run only, never the time a fresh worker took to start (after a terminated one).
 */
export function runTask({ name, arg, started }: TaskEnvelope): Promise<TaskOutcome<unknown>> {
  started.postMessage('started');
  started.close();
  return (TASKS[name] as (arg: unknown) => Promise<TaskOutcome<unknown>>)(arg);
}
