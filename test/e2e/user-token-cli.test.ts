// The administrator at the server's shell: `user list`, `token list --all`, and `token revoke` by the
// id or the name `token list` shows, with a shared name refused and its candidates listed.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../support/registry-server.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

const ISO = '\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z';

describe('user and token commands', () => {
  it('user list, token list --all and token revoke by id or name', async () => {
    const dir = ['--data-dir', makeTempDir('cratekeeper-cli-')];
    const cli = async (args: string[]) => {
      const result = await runCli([...args, ...dir]);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      return result.stdout;
    };
    await cli(['user', 'add', 'root', '--admin']);
    await cli(['user', 'add', 'alice']);
    await cli(['token', 'create', '--user', 'root']);
    await cli(['token', 'create', '--user', 'alice']);
    await cli(['token', 'create', '--user', 'alice', '--name', 'laptop']);

    const users = (await cli(['user', 'list'])).trim().split('\n');
    assert.equal(users[0], 'NAME\tADMIN\tORIGIN\tCREATED\tTOKENS');
    assert.match(users[1]!, new RegExp(`^alice\tno\tlocal\t${ISO}\t2$`));
    assert.match(users[2]!, new RegExp(`^root\tyes\tlocal\t${ISO}\t1$`));

    const all = (await cli(['token', 'list', '--all'])).trim().split('\n');
    assert.equal(all[0], 'USER\tID\tNAME\tCREATED\tLAST USED\tEXPIRES\tSTATUS\tSCOPES\tCRATES');
    const rows = all.slice(1).map((line) => line.split('\t'));
    assert.deepEqual(
      rows.map(([user, id, name, , , , status]) => [user, id, name, status]),
      [
        ['alice', '2', 'cli', 'active'],
        ['alice', '3', 'laptop', 'active'],
        ['root', '1', 'cli', 'active'],
      ],
    );

    const ambiguous = await runCli(['token', 'revoke', 'cli', ...dir]);
    assert.equal(ambiguous.code, 2);
    assert.match(
      ambiguous.stderr,
      /2 active tokens are named `cli`: id 2 \(user alice, created [^)]+\), id 1 \(user root, created [^)]+\); revoke one by its id/,
    );

    assert.equal((await cli(['token', 'revoke', 'laptop'])).trim(), 'revoked token 3 (laptop) of alice');
    assert.equal((await cli(['token', 'revoke', 'cli', '--user', 'root'])).trim(), 'revoked token 1 (cli) of root');
    assert.equal((await cli(['token', 'revoke', '2'])).trim(), 'revoked token 2 (cli) of alice');
    const statuses = (await cli(['token', 'list', '--all']))
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split('\t')[6]);
    assert.ok(
      statuses.every((s) => s!.startsWith('revoked ')),
      statuses.join(),
    );

    const gone = await runCli(['token', 'revoke', 'laptop', ...dir]);
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /no active token has the id or name `laptop`; `cratekeeper token list --all` shows every token/);
    const neither = await runCli(['token', 'list', ...dir]);
    assert.notEqual(neither.code, 0);
    assert.match(neither.stderr, /give --user NAME for one user's tokens, or --all for every user's/);
  });
});
