// The index file the throughput benchmarks serve (index-throughput.mjs, instructions.mjs): one crate
// with enough versions for a ~6.3 KB file (the size in design.md, "Hot paths"), each depending on two
// others, published through cratekeeper's API; and the same files, byte for byte, in a folder laid
// out like the index, for nginx and the bare node:http reference.

import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, crateFile, indexPath, publishMetadata, tempDir } from './lib.mjs';

const { encodePublishBody } = await import(path.join(ROOT, 'dist/src/domain/publish-body.js'));

const TARGET_INDEX_BYTES = 6300;
export const TARGET_CRATE = 'bench-hot-crate';
export const OTHER_CRATES = ['bench-dep-alpha', 'bench-dep-beta'];

function metadata(name, vers, deps) {
  return publishMetadata(
    name,
    vers,
    deps.map((d) => [d, '^1.0']),
    {
      features: { default: ['std'], std: [] },
      authors: ['Bench <bench@example.invalid>'],
      description: `benchmark crate ${name}`,
    },
  );
}

export async function publishBody(name, vers, deps = []) {
  return encodePublishBody(metadata(name, vers, deps), await crateFile(name, vers));
}

export async function publish(request, ck, body) {
  const res = await request(`${ck.url}/api/v1/crates/new`, {
    method: 'PUT',
    headers: { authorization: ck.token, 'content-length': body.length },
    body,
  });
  if (res.status !== 200) throw new Error(`publish failed: ${res.status} ${res.body.toString('utf8').slice(0, 500)}`);
}

export async function fetchIndex(request, ck, name) {
  const res = await request(`${ck.url}/index/${indexPath(name)}`, { headers: { authorization: ck.token } });
  if (res.status !== 200) throw new Error(`index ${name}: ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
  return res;
}

// Publishes the crates to serve, then copies the rendered index files, byte for byte, into a folder
// laid out like the index for nginx.
export async function prepareIndex(request, ck) {
  for (const name of OTHER_CRATES) await publish(request, ck, await publishBody(name, '1.0.0'));
  let file;
  for (let minor = 0; minor < 200; minor++) {
    await publish(request, ck, await publishBody(TARGET_CRATE, `0.${minor}.0`, OTHER_CRATES));
    file = await fetchIndex(request, ck, TARGET_CRATE);
    if (file.body.length >= TARGET_INDEX_BYTES) break;
  }
  const www = tempDir('ck-bench-www-');
  chmodSync(www, 0o755); // nginx workers may run as an unprivileged user
  const files = {};
  for (const name of [TARGET_CRATE, ...OTHER_CRATES]) {
    const res = await fetchIndex(request, ck, name);
    const rel = `index/${indexPath(name)}`;
    const dest = path.join(www, rel);
    mkdirSync(path.dirname(dest), { recursive: true });
    writeFileSync(dest, res.body);
    files[name] = { path: `/${rel}`, bytes: res.body.length, etag: res.headers.etag, lines: res.body.toString().trim().split('\n').length };
  }
  spawnSync('chmod', ['-R', 'a+rX', www]);
  return { www, files };
}
