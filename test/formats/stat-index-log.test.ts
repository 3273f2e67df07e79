import { describe, expect, it } from 'vitest';
import { parseStatLog, statLogBatch, statLogHeader, STAT_LOG_HEADER } from '../../src/formats/stat-index-log.js';
import type { StatEntry } from '../../src/formats/stat-index.js';

const oid = (c: string) => `b3:${c.repeat(64)}`;
const entry = (n: number, c = 'a'): StatEntry => ({ size: n, mtimeMs: n + 0.5, ctimeMs: n + 0.75, ino: 1000 + n, oid: oid(c), hashedAt: n + 10_000 });
const base = Buffer.alloc(32, 7);

describe('stat index change log (v1)', () => {
  const first: [string, StatEntry | null][] = [['a', entry(1)], ['é/x', null]];
  const second: [string, StatEntry | null][] = [['b', entry(2, 'b')]];
  const log = Buffer.concat([statLogHeader(base), statLogBatch(first), statLogBatch(second)]);

  it('round-trips batches of entries and removals, in the order written', () => {
    expect(parseStatLog(log, base)).toEqual({ changes: [...first, ...second], validLength: log.length });
  });

  it('is read as nothing over another index, another version or a damaged header', () => {
    expect(parseStatLog(log, Buffer.alloc(32, 8))).toBeUndefined();
    expect(parseStatLog(log, undefined)).toBeUndefined();
    const other = Buffer.from(log);
    other.writeUInt32LE(2, 8);
    expect(parseStatLog(other, base)).toBeUndefined();
    expect(parseStatLog(log.subarray(0, STAT_LOG_HEADER - 1), base)).toBeUndefined();
  });

  it('ends at a batch cut short or damaged, keeping the batches before it', () => {
    const firstEnd = STAT_LOG_HEADER + statLogBatch(first).length;
    for (const cut of [firstEnd + 3, log.length - 1]) expect(parseStatLog(log.subarray(0, cut), base)).toEqual({ changes: first, validLength: firstEnd });
    const damaged = Buffer.from(log);
    damaged[firstEnd + 10]! ^= 1;
    expect(parseStatLog(damaged, base)).toEqual({ changes: first, validLength: firstEnd });
  });

  it('reads an entry whose oid bytes are not an oid as a removal (never trusted)', () => {
    const bad = Buffer.concat([statLogHeader(base), statLogBatch([['a', { ...entry(1), oid: 'b3:short' }]])]);
    expect(parseStatLog(bad, base)?.changes).toEqual([['a', null]]);
  });
});
