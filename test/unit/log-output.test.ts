// Which log format the server picks: `auto` follows whether stderr is a terminal; a setting forces either.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseLogFormat } from '../../src/log-output.js';
import { loadConfig } from '../../src/config/load.js';

describe('log format', () => {
  it('auto: pretty on a terminal, JSON otherwise; pretty and json force either', () => {
    assert.equal(chooseLogFormat('auto', true), 'pretty');
    assert.equal(chooseLogFormat('auto', false), 'json');
    assert.equal(chooseLogFormat('json', true), 'json');
    assert.equal(chooseLogFormat('pretty', false), 'pretty');
  });

  it('log.format defaults to auto, is read from the environment, and refuses other values', () => {
    assert.equal(loadConfig({ env: {}, flags: {} }).log.format, 'auto');
    assert.equal(loadConfig({ env: { CRATEKEEPER_LOG__FORMAT: 'json' }, flags: {} }).log.format, 'json');
    assert.throws(
      () => loadConfig({ env: { CRATEKEEPER_LOG__FORMAT: 'yaml' }, flags: {} }),
      /log\.format: expected "auto", "pretty" or "json"/,
    );
  });
});
