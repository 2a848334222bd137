// Yank and unyank: flip one version's flag, in the same transaction as the crate's stored index file.

import { notFound } from '../domain/errors.js';
import type { AccessPolicy } from '../auth/access-policy.js';
import type { MetadataRepositories } from '../ports/metadata-database.js';
import type { TokenPrincipal } from '../ports/tokens.js';
import type { IndexFiles } from './index-files.js';
import { requireOwner } from './ownership.js';

export class YankService {
  constructor(
    private readonly repos: Pick<MetadataRepositories, 'crates' | 'owners'>,
    private readonly policy: AccessPolicy,
    private readonly indexFiles: IndexFiles,
  ) {}

  /** Returns the crate's name as published. */
  async setYanked(principal: TokenPrincipal, name: string, version: string, yanked: boolean): Promise<string> {
    const crate = await requireOwner(this.repos, this.policy, principal, name, 'yank');
    const lowerName = crate.name.toLowerCase();
    if (!(await this.repos.crates.setYanked(lowerName, version, yanked))) {
      throw notFound('version-not-found', `crate \`${crate.name}\` has no version \`${version}\``);
    }
    this.indexFiles.invalidate(lowerName);
    return crate.name;
  }
}
