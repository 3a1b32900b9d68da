// The gateway's V8 flags live in two places that must agree: bin/gatehouse.js's shebang line
// (the CLI, `npm start`'s headless host, the bench) and main/core/node-flags.ts (listener processes).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GATEWAY_NODE_FLAGS } from '../../main/core/node-flags.js';
import { spawnWait } from '../helpers/slow.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('gateway node flags', () => {
  it('bin/gatehouse.js runs node with exactly GATEWAY_NODE_FLAGS', () => {
    const first = fs.readFileSync(path.join(ROOT, 'bin', 'gatehouse.js'), 'utf8').split('\n', 1)[0]!;
    expect(first.startsWith('#!/usr/bin/env -S node ')).toBe(true);
    expect(first.split(/\s+/).slice(3)).toEqual([...GATEWAY_NODE_FLAGS]);
  });

  it('this node accepts them (a bad V8 flag would stop the gateway from starting)', () => {
    const r = spawnSync(process.execPath, [...GATEWAY_NODE_FLAGS, '-e', 'process.stdout.write("started")'], { encoding: 'utf8', timeout: spawnWait(20_000) });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('started');
  });
});
