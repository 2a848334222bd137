// Yank and unyank: flip one version's flag, in the same transaction as the crate's stored index file
// and the webhook event that tells of it.

import { notFound } from '../domain/errors.js';
import { newOccurrence } from '../domain/webhook-events.js';
import type { AccessPolicy } from '../auth/access-policy.js';
import type { MetadataDatabase } from '../ports/metadata-database.js';
import type { TokenPrincipal } from '../ports/tokens.js';
import type { IndexFiles } from './index-files.js';
import { requireOwner } from './ownership.js';

export class YankService {
  constructor(
    private readonly database: Pick<MetadataDatabase, 'crates' | 'owners' | 'transaction'>,
    private readonly policy: AccessPolicy,
    private readonly indexFiles: IndexFiles,
    private readonly now: () => number,
  ) {}

  /** Returns the crate's name as published. */
  async setYanked(principal: TokenPrincipal, name: string, version: string, yanked: boolean): Promise<string> {
    const crate = await requireOwner(this.database, this.policy, principal, name, 'yank');
    const lowerName = crate.name.toLowerCase();
    const at = new Date(this.now()).toISOString();
    const changed = await this.database.transaction(async (repos) => {
      if (!(await repos.crates.setYanked(lowerName, version, yanked))) return false;
      const event = newOccurrence(yanked ? 'yank' : 'unyank', { crate: crate.name, version, actor: principal.login }, at);
      await repos.webhookDeliveries.recordEvent(event);
      return true;
    });
    if (!changed) throw notFound('version-not-found', `crate \`${crate.name}\` has no version \`${version}\``);
    this.indexFiles.invalidate(lowerName);
    return crate.name;
  }
}
