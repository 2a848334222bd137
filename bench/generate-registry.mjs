// Fills a new cratekeeper database with a crates.io-sized registry: ~150,000 crates and ~1.5 million
// versions, written with bulk SQL (multi-row inserts inside big transactions), for SQLite or
// PostgreSQL. Shapes follow real data: name lengths, dependencies per version (and their kinds,
// optional flags, features, targets), feature counts and descriptions are resampled from Debian's
// crate corpus (/usr/share/cargo/registry/*/Cargo.toml). See bench/README.md ("Registry size").
//
//   npm run build
//   node bench/generate-registry.mjs --data-dir DIR [--crates 150000] [--seed 1]            # SQLite
//   node bench/generate-registry.mjs --data-dir DIR --database-url postgres://...           # PostgreSQL
//
// DIR receives the admin's token (bench-admin-token), the list of crate names (bench-names.json)
// and, for SQLite, the database; the one shared blob goes to DIR/blobs. Prints a JSON summary.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { parse as parseToml } from 'smol-toml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CORPUS = '/usr/share/cargo/registry';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}
const DATA_DIR = arg('data-dir');
const DATABASE_URL = arg('database-url');
const CRATES = Number(arg('crates', '150000'));
const SEED = Number(arg('seed', '1'));
if (!DATA_DIR) throw new Error('--data-dir is required');
if (!Number.isInteger(CRATES) || CRATES < 1 || CRATES > 1_000_000) throw new Error('--crates expects 1..1000000');
const log = (...a) => console.error('[generate]', ...a);

// ---------------------------------------------------------------- seeded randomness
let state = SEED >>> 0 || 1;
function random() {
  // mulberry32
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (array) => array[Math.floor(random() * array.length)];
function gaussian() {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

// ---------------------------------------------------------------- the corpus: empirical distributions
function readCorpus() {
  const dirs = existsSync(CORPUS) ? readdirSync(CORPUS) : [];
  const corpus = {
    names: [],
    nameLengths: [],
    depCounts: [],
    deps: [],
    featureCounts: [],
    featureSizes: [],
    descriptions: [],
    licenses: [],
  };
  for (const dir of dirs) {
    let toml;
    try {
      toml = parseToml(readFileSync(path.join(CORPUS, dir, 'Cargo.toml'), 'utf8'));
    } catch {
      continue;
    }
    const pkg = toml.package;
    if (!pkg?.name) continue;
    corpus.names.push(pkg.name);
    corpus.nameLengths.push(pkg.name.length);
    if (typeof pkg.description === 'string') corpus.descriptions.push(pkg.description.replace(/\s+/g, ' ').trim());
    if (typeof pkg.license === 'string') corpus.licenses.push(pkg.license);
    let count = 0;
    const addDeps = (table, kind, target) => {
      for (const [alias, spec] of Object.entries(table ?? {})) {
        count++;
        const s = typeof spec === 'string' ? { version: spec } : spec;
        corpus.deps.push({
          req: typeof s.version === 'string' ? s.version : '*',
          features: Array.isArray(s.features) ? s.features : [],
          optional: s.optional === true,
          default_features: s['default-features'] !== false && s.default_features !== false,
          target: target ?? null,
          kind,
          renamed: typeof s.package === 'string' ? alias : null,
        });
      }
    };
    addDeps(toml.dependencies, 'normal');
    addDeps(toml['dev-dependencies'], 'dev');
    addDeps(toml['build-dependencies'], 'build');
    for (const [target, t] of Object.entries(toml.target ?? {})) {
      addDeps(t.dependencies, 'normal', target);
      addDeps(t['dev-dependencies'], 'dev', target);
      addDeps(t['build-dependencies'], 'build', target);
    }
    corpus.depCounts.push(count);
    const features = Object.values(toml.features ?? {});
    corpus.featureCounts.push(features.length);
    for (const f of features) corpus.featureSizes.push(Array.isArray(f) ? f.length : 0);
  }
  return corpus;
}

const summary = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, mean: +(s.reduce((a, b) => a + b, 0) / s.length).toFixed(2), p50: q(0.5), p90: q(0.9), max: s.at(-1) };
};

// ---------------------------------------------------------------- the registry's shape
// Versions per crate cannot come from Debian (one version per package there). crates.io has about
// 10 versions per crate on average and a median of 3-4, with a long tail; a log-normal with median 4
// and mean 10 (mu = ln 4, sigma = 1.354), capped at 1,000, has that shape.
function versionsPerCrate() {
  return Math.min(1000, Math.max(1, Math.round(Math.exp(Math.log(4) + 1.354 * gaussian()))));
}

function makeNames(corpus, n) {
  // Real names first (so that searches for serde, tokio, http find them), then names of a length
  // drawn from the corpus, assembled from the words of real names, like most crate names are.
  const words = [...new Set(corpus.names.flatMap((name) => name.toLowerCase().split(/[-_]/)).filter((w) => w.length >= 2))];
  const names = [];
  const seen = new Set();
  const add = (name) => {
    const key = name.toLowerCase().replace(/_/g, '-');
    if (seen.has(key) || !/^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/.test(name)) return false;
    seen.add(key);
    names.push(name);
    return true;
  };
  for (const name of corpus.names) add(name);
  let guard = 0;
  while (names.length < n && guard++ < n * 20) {
    const target = pick(corpus.nameLengths);
    let name = pick(words);
    while (name.length < target) name += (random() < 0.8 ? '-' : '_') + pick(words);
    // Cut back to the drawn length, so that the lengths follow the corpus and not the words'.
    name = name.slice(0, Math.max(2, target)).replace(/[-_]+$/, '');
    if (!add(name)) add(`${name}-${Math.floor(random() * 1000)}`);
  }
  return names.slice(0, n);
}

function versionList(count) {
  const out = [];
  let [major, minor, patch] = [0, 1, 0];
  for (let i = 0; i < count; i++) {
    out.push(`${major}.${minor}.${patch}`);
    const r = random();
    if (r < 0.6) patch++;
    else if (r < 0.93) [minor, patch] = [minor + 1, 0];
    else [major, minor, patch] = [major + 1, 0, 0];
  }
  return out;
}

// ---------------------------------------------------------------- writers
const VERSION_COLUMNS = [
  'id',
  'crate_id',
  'vers',
  'vers_key',
  'entry_json',
  'details_json',
  'yanked',
  'blob_key',
  'size',
  'cksum',
  'published_by',
  'created_at',
];
const CRATE_COLUMNS = ['id', 'name', 'name_lower', 'name_normalized', 'description', 'created_at', 'updated_at'];
const OWNER_COLUMNS = ['crate_id', 'user_id', 'created_at'];

class SqliteWriter {
  constructor(file) {
    this.db = openSqliteConnection(file);
    // Only while generating: the server opens it with synchronous = FULL again.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = OFF');
    this.statements = new Map();
  }
  statement(table, columns, rows) {
    const key = `${table}:${rows}`;
    let s = this.statements.get(key);
    if (!s) {
      const one = `(${columns.map(() => '?').join(',')})`;
      s = this.db.prepare(`insert into ${table} (${columns.join(',')}) values ${new Array(rows).fill(one).join(',')}`);
      this.statements.set(key, s);
    }
    return s;
  }
  async insert(table, columns, rows) {
    const PER = Math.floor(30000 / columns.length);
    this.db.transaction(() => {
      for (let i = 0; i < rows.length; i += PER) {
        const chunk = rows.slice(i, i + PER);
        this.statement(table, columns, chunk.length).run(chunk.flat());
      }
    })();
  }
  async finish() {
    this.db.pragma('synchronous = FULL');
    this.db.exec('analyze');
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }
  async unapplyRebuilds() {
    this.db.exec(
      'drop table index_files; alter table crates drop column max_version; delete from schema_migrations where version in (14, 18, 22)',
    );
    this.db.close();
  }
}

class PostgresWriter {
  async open(url) {
    this.client = new pg.Client({ connectionString: url });
    await this.client.connect();
    return this;
  }
  async insert(table, columns, rows) {
    const PER = Math.floor(60000 / columns.length);
    await this.client.query('begin');
    for (let i = 0; i < rows.length; i += PER) {
      const chunk = rows.slice(i, i + PER);
      let n = 0;
      const values = chunk.map((row) => `(${row.map(() => `$${++n}`).join(',')})`).join(',');
      await this.client.query(`insert into ${table} (${columns.join(',')}) values ${values}`, chunk.flat());
    }
    await this.client.query('commit');
  }
  async finish() {
    for (const table of ['crates', 'versions']) {
      await this.client.query(`select setval(pg_get_serial_sequence('${table}', 'id'), (select max(id) from ${table}))`);
    }
    await this.client.query('analyze');
  }
  async unapplyRebuilds() {
    await this.client.query(
      'drop table index_files; alter table crates drop column max_version; delete from schema_migrations where version in (14, 18, 22)',
    );
    await this.client.end();
  }
}

// ---------------------------------------------------------------- main
const started = performance.now();
mkdirSync(DATA_DIR, { recursive: true });
const corpus = readCorpus();
if (corpus.names.length < 100) {
  throw new Error(`only ${corpus.names.length} crates under ${CORPUS}; install some librust-*-dev packages (see bench/README.md)`);
}
log(`corpus: ${corpus.names.length} Cargo.toml files, ${corpus.deps.length} dependencies`);

// The schema and the admin come from cratekeeper itself (dist/), so the database is one it accepts.
const { openSqliteDatabase } = await import(path.join(ROOT, 'dist/src/adapters/metadata/sqlite.js'));
const { openSqliteConnection } = await import(path.join(ROOT, 'dist/src/adapters/metadata/sqlite-driver.js'));
const { openPostgresDatabase } = await import(path.join(ROOT, 'dist/src/adapters/metadata/postgres.js'));
const { AccountService } = await import(path.join(ROOT, 'dist/src/services/accounts.js'));
const sqliteFile = path.join(DATA_DIR, 'cratekeeper.sqlite3');
const store = DATABASE_URL
  ? await openPostgresDatabase(DATABASE_URL, { migrations: 'apply' })
  : await openSqliteDatabase(sqliteFile, { migrations: 'apply' });
const adminToken = await new AccountService(store).bootstrapAdmin();
if (!adminToken) throw new Error('the database is not empty; generate into a new one');
await store.close();
writeFileSync(path.join(DATA_DIR, 'bench-admin-token'), adminToken, { mode: 0o600 });
const ADMIN_ID = 1;

// One small blob shared by every generated version (the index does not need blobs): its checksum is
// the one every index line carries, so a download of any generated version verifies.
const blob = Buffer.from('cratekeeper bench: shared placeholder for generated versions\n');
const cksum = createHash('sha256').update(blob).digest('hex');
const BLOB_KEY = 'bench/shared.crate';
mkdirSync(path.join(DATA_DIR, 'blobs', 'bench'), { recursive: true });
writeFileSync(path.join(DATA_DIR, 'blobs', BLOB_KEY), blob);

const names = makeNames(corpus, CRATES);
writeFileSync(path.join(DATA_DIR, 'bench-names.json'), JSON.stringify(names));
const writer = DATABASE_URL ? await new PostgresWriter().open(DATABASE_URL) : new SqliteWriter(sqliteFile);

const BATCH_VERSIONS = 50_000;
const base = Date.parse('2018-01-01T00:00:00Z');
let versionId = 0;
let crateRows = [];
let ownerRows = [];
let versionRows = [];
const shape = { versionsPerCrate: [], depsPerVersion: [], featuresPerVersion: [], indexBytesPerCrate: [] };
const flush = async () => {
  if (crateRows.length) await writer.insert('crates', CRATE_COLUMNS, crateRows);
  if (ownerRows.length) await writer.insert('crate_owners', OWNER_COLUMNS, ownerRows);
  if (versionRows.length) await writer.insert('versions', VERSION_COLUMNS, versionRows);
  crateRows = [];
  ownerRows = [];
  versionRows = [];
};

for (let c = 0; c < names.length; c++) {
  const name = names[c];
  const crateId = c + 1;
  const created = base + Math.floor(random() * 8 * 365 * 86_400_000);
  const description = pick(corpus.descriptions);
  const license = pick(corpus.licenses);
  // A crate keeps roughly the same dependencies across its versions: one draw from the corpus,
  // a little drift per version. Dependencies point at earlier crates, the first ones more often
  // (popular crates are depended on most).
  const depCount = pick(corpus.depCounts);
  const template = [];
  for (let d = 0; d < depCount && c > 0; d++) {
    const dep = pick(corpus.deps);
    const target = names[Math.floor(c * random() ** 3)];
    if (template.some((t) => t.name === (dep.renamed ?? target))) continue;
    template.push({
      name: dep.renamed ?? target,
      req: dep.req,
      features: dep.features,
      optional: dep.optional,
      default_features: dep.default_features,
      target: dep.target,
      kind: dep.kind,
      registry: null,
      package: dep.renamed ? target : null,
    });
  }
  const featureCount = pick(corpus.featureCounts);
  const features = {};
  for (let f = 0; f < featureCount; f++) {
    const size = pick(corpus.featureSizes);
    const optional = template.filter((d) => d.optional);
    features[f === 0 ? 'default' : `feature-${f}`] = Array.from({ length: size }, () =>
      optional.length && random() < 0.5
        ? `dep:${pick(optional).name}`
        : `feature-${1 + Math.floor(random() * Math.max(1, featureCount - 1))}`,
    );
  }
  // As publish stores them: features using `dep:` or `?/` go to features2 (domain/index-line.ts).
  const plain = {};
  const newer = {};
  for (const [feature, enables] of Object.entries(features))
    (enables.some((f) => f.startsWith('dep:') || f.includes('?/')) ? newer : plain)[feature] = enables;
  const features2 = Object.keys(newer).length > 0 ? newer : null;
  const versions = versionList(versionsPerCrate());
  shape.versionsPerCrate.push(versions.length);
  let indexBytes = 0;
  let when = created;
  for (const vers of versions) {
    when += Math.floor(random() * 60 * 86_400_000);
    const deps = random() < 0.2 && template.length > 1 ? template.slice(0, -1) : template;
    const pubtime = new Date(Math.min(when, Date.now())).toISOString();
    const entry = {
      name,
      vers,
      deps,
      cksum,
      features: plain,
      features2,
      links: null,
      rust_version: null,
      pubtime: `${pubtime.slice(0, 19)}Z`,
    };
    const entryJson = JSON.stringify(entry);
    indexBytes += entryJson.length + 1;
    shape.depsPerVersion.push(deps.length);
    shape.featuresPerVersion.push(featureCount);
    const details = {
      description,
      license,
      repository: `https://git.example.com/${name}`,
      homepage: null,
      documentation: null,
      readme: null,
      keywords: [],
      categories: [],
      authors: [],
    };
    versionRows.push([
      ++versionId,
      crateId,
      vers,
      vers,
      entryJson,
      JSON.stringify(details),
      0,
      BLOB_KEY,
      blob.length,
      cksum,
      ADMIN_ID,
      pubtime,
    ]);
  }
  shape.indexBytesPerCrate.push(indexBytes);
  const createdIso = new Date(created).toISOString();
  crateRows.push([
    crateId,
    name,
    name.toLowerCase(),
    name.toLowerCase().replaceAll('-', '_'),
    description,
    createdIso,
    new Date(Math.min(when, Date.now())).toISOString(),
  ]);
  ownerRows.push([crateId, ADMIN_ID, createdIso]);
  if (versionRows.length >= BATCH_VERSIONS) {
    await flush();
    log(`${c + 1} crates, ${versionId} versions, ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}
await flush();
const writeDone = performance.now();
await writer.finish();
const finishSeconds = (performance.now() - writeDone) / 1000;

// The stored index files (migrations 14 and 18) and each crate's shown version (22) come from
// cratekeeper's own migrations: marked as not yet applied, then `cratekeeper migrate` renders every
// crate's file and its gzip form and stores the versions as an upgrade would, with its progress
// lines, and is timed.
await writer.unapplyRebuilds();
const migrationStarted = performance.now();
const migration = spawnSync(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), 'migrate', '--data-dir', DATA_DIR], {
  env: { ...process.env, ...(DATABASE_URL ? { CRATEKEEPER_DATABASE__URL: DATABASE_URL } : {}) },
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (migration.status !== 0) throw new Error(`cratekeeper migrate failed (${migration.status})`);
const migrationSeconds = (performance.now() - migrationStarted) / 1000;
const seconds = (performance.now() - started) / 1000;

const result = {
  database: DATABASE_URL ? 'postgres' : 'sqlite',
  crates: names.length,
  versions: versionId,
  seconds: +seconds.toFixed(1),
  finishSeconds: +finishSeconds.toFixed(1),
  indexFilesMigrationSeconds: +migrationSeconds.toFixed(1),
  corpus: {
    files: corpus.names.length,
    nameLength: summary(corpus.nameLengths),
    dependencies: summary(corpus.depCounts),
    features: summary(corpus.featureCounts),
  },
  generated: {
    nameLength: summary(names.map((n) => n.length)),
    versionsPerCrate: summary(shape.versionsPerCrate),
    depsPerVersion: summary(shape.depsPerVersion),
    featuresPerVersion: summary(shape.featuresPerVersion),
    indexFileBytes: summary(shape.indexBytesPerCrate),
  },
};
console.log(JSON.stringify(result, null, 2));
