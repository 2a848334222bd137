// Every repository of the metadata database, made on one scope: the connection, or a transaction
// for a unit of work (sql-database.ts).

import type { MetadataRepositories } from '../../ports/metadata-database.js';
import { SqlAdvisories } from './sql-advisories.js';
import { SqlAuditLog } from './sql-audit-log.js';
import { SqlCatalog } from './sql-catalog.js';
import { SqlChangeLog } from './sql-change-log.js';
import { SqlCrateSearch } from './sql-crate-search.js';
import { SqlCrates } from './sql-crates.js';
import { SqlDeviceFlow } from './sql-device-flow.js';
import { SqlDocBuilds } from './sql-doc-builds.js';
import { SqlDownloadCounts } from './sql-download-counts.js';
import { SqlGroups } from './sql-groups.js';
import { SqlIdTokenReplays } from './sql-id-token-replays.js';
import { SqlOwners } from './sql-owners.js';
import { SqlPolicyStore } from './sql-policy-store.js';
import { SqlRateCounts } from './sql-rate-counts.js';
import type { SqlScope } from './sql-scope.js';
import { SqlServerSecrets } from './sql-server-secrets.js';
import { SqlTokens } from './sql-tokens.js';
import { SqlUsers } from './sql-users.js';
import { SqlWebhookDeliveries, SqlWebhookEndpoints } from './sql-webhooks.js';

export function sqlRepositories(scope: SqlScope): MetadataRepositories {
  return {
    users: new SqlUsers(scope),
    groups: new SqlGroups(scope),
    tokens: new SqlTokens(scope),
    crates: new SqlCrates(scope),
    owners: new SqlOwners(scope),
    search: new SqlCrateSearch(scope),
    changes: new SqlChangeLog(scope),
    secrets: new SqlServerSecrets(scope),
    idTokens: new SqlIdTokenReplays(scope),
    catalog: new SqlCatalog(scope.db),
    auditLog: new SqlAuditLog(scope.db, scope.rules.name),
    downloadCounts: new SqlDownloadCounts(scope),
    rateCounts: new SqlRateCounts(scope.db),
    deviceFlow: new SqlDeviceFlow(scope),
    webhookEndpoints: new SqlWebhookEndpoints(scope),
    webhookDeliveries: new SqlWebhookDeliveries(scope),
    docBuilds: new SqlDocBuilds(scope),
    policy: new SqlPolicyStore(scope),
    advisories: new SqlAdvisories(scope),
  };
}
