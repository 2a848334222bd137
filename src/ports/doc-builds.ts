// Rustdoc builds and uploads, one row per crate version (docs/rustdoc.md). The row is the job queue
// of the builder too: a `queued` row is claimed by one process with a lease, so that a restart or a
// replica picks up what another left, and two never build the same version at once. `docsKey` is
// the blob prefix of the stored docs (services/docs-store.ts); a row without one has none yet.

export type DocStatus = 'queued' | 'building' | 'done' | 'failed' | 'uploaded';

export interface DocBuild {
  id: number;
  /** The crate's lower-case name. */
  crate: string;
  version: string;
  status: DocStatus;
  /** The build's output (bounded), or what refused an upload's docs; empty for an upload. */
  log: string;
  docsKey: string | null;
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface DocBuilds {
  /** Queues a build unless the version has a row already; true when queued. */
  enqueue(crate: string, version: string, at: string): Promise<boolean>;
  /**
   * Takes the oldest queued job, or one whose lease ran out (its builder died), for `owner` until
   * `leaseUntil`; undefined when there is none. Two processes never get the same job.
   */
  claim(owner: string, at: string, leaseUntil: string): Promise<DocBuild | undefined>;
  /**
   * Ends a claimed build; false (and nothing written) when `owner` no longer holds the lease. Returns
   * the docs key the row had before, so the caller removes those docs.
   */
  finish(
    id: number,
    owner: string,
    outcome: { status: 'done' | 'failed'; log: string; docsKey: string | null },
    at: string,
  ): Promise<{ finished: boolean; previousDocsKey: string | null }>;
  /** Records uploaded docs for a version (replacing any build); returns the docs key it replaced. */
  recordUpload(crate: string, version: string, docsKey: string, userId: number, at: string): Promise<{ previousDocsKey: string | null }>;
  find(crate: string, version: string): Promise<DocBuild | undefined>;
  /** The crate's rows, newest first (by id). */
  listForCrate(crate: string): Promise<DocBuild[]>;
  /** Removes a row; returns its docs key. */
  remove(id: number): Promise<string | null>;
}
