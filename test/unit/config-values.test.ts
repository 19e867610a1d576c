import { describe, expect, it } from 'vitest';
import { type Config, parseCli } from '../../server/config.js';

const run = (argv: string[], env: NodeJS.ProcessEnv = {}): Config => {
  const command = parseCli(argv, env);
  if (command.kind !== 'run') throw new Error(`expected run, got ${command.kind}`);
  return command.config;
};

describe('--backfill', () => {
  it('is 5 minutes by default', () => {
    expect(run([]).backfillMs).toBe(300_000);
  });

  it('is clamped to --history: a backfill cannot send more than the server keeps', () => {
    expect(run(['--history', '10m', '--backfill', '1h']).backfillMs).toBe(600_000);
    expect(run(['--history', '2s', '--interval', '1s']).backfillMs).toBe(2000);
  });

  it('is kept when it fits in the history, up to all of it', () => {
    expect(run(['--history', '1h', '--backfill', '90s']).backfillMs).toBe(90_000);
    expect(run(['--history', '10m', '--backfill', '10m']).backfillMs).toBe(600_000);
    expect(run(['--backfill', '0']).backfillMs).toBe(0);
  });
});

describe('--portable', () => {
  it.each([
    [[], {}, false],
    [['--portable'], {}, true],
    [[], { PULSEBOARD_PORTABLE: '1' }, true],
    [[], { PULSEBOARD_PORTABLE: 'TRUE' }, true],
    [[], { PULSEBOARD_PORTABLE: 'yes' }, true],
    [[], { PULSEBOARD_PORTABLE: '0' }, false],
    [[], { PULSEBOARD_PORTABLE: 'false' }, false],
    [[], { PULSEBOARD_PORTABLE: 'No' }, false],
    [[], { PULSEBOARD_PORTABLE: '' }, false],
  ] as [string[], NodeJS.ProcessEnv, boolean][])('%j with %j is %s', (argv, env, portable) => {
    expect(run(argv, env).portable).toBe(portable);
  });

  it('refuses another value in the environment with one line', () => {
    expect(() => run([], { PULSEBOARD_PORTABLE: 'maybe' })).toThrow('PULSEBOARD_PORTABLE "maybe": expected true or false');
    expect(() => run([], { PULSEBOARD_PORTABLE: 'yes please' })).toThrow(/expected true or false/);
  });
});
