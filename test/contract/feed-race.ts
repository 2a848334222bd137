// The change-log race: many writers commit concurrently while a poller follows the log the way
// services/change-feed.ts does (`changesSince(last)`, then last = the highest seq read), through
// a database of its own, as another process or replica would. Returns the committed changes that
// the poller never saw. On a database that numbers changes at insert time rather than at commit
// time, a writer that commits late with a low seq is skipped.

import type { Change, ChangeLog } from '../../src/ports/change-log.js';
import type { MetadataRepositories } from '../../src/ports/metadata-database.js';
import { newVersion } from './repository-fixtures.js';

export interface FeedRaceResult {
  committed: Change[];
  missed: Change[];
  polls: number;
}

export async function runFeedRace(writer: MetadataRepositories, reader: { changes: ChangeLog }, writers: number): Promise<FeedRaceResult> {
  const tag = Math.random().toString(36).slice(2, 8);
  const user = await writer.users.createUser(`racer-${tag}`, false);
  const tokens = [];
  for (let i = 0; i < writers; i++) {
    tokens.push(await writer.tokens.insertToken({ userId: user.id, name: `t${i}`, hash: `race-${tag}-${i}`, expiresAt: null }));
  }
  const start = await writer.changes.latestChangeSeq();

  const seen = new Set<number>();
  let last = start;
  let writing = true;
  let polls = 0;
  const poll = async () => {
    polls++;
    for (const change of await reader.changes.changesSince(last)) {
      seen.add(change.seq);
      last = change.seq;
    }
  };
  const poller = (async () => {
    // Bounded: the writers finish long before this many polls.
    while (writing && polls < 1_000_000) await poll();
  })();

  // Half the writers revoke a token of their own, half publish a crate of their own: no two touch
  // the same row, so nothing but the log itself could order them.
  const writes = tokens.map((token, i) =>
    i % 2 === 0 ? writer.tokens.revokeToken(token.id) : writer.crates.publishVersion(newVersion(`race-${tag}-${i}`, '1.0.0', user.id)),
  );
  try {
    await Promise.all(writes);
  } finally {
    writing = false;
    await poller;
  }
  await poll();

  const committed = (await writer.changes.changesSince(start)).filter((c) => c.subject.includes(tag));
  return { committed, missed: committed.filter((c) => !seen.has(c.seq)), polls };
}
