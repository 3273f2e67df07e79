import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ReadAhead, SmallObjectFeed, type ReadAheadItem } from '../../src/remote/small-object-reader.js';
import { bytes, tempDir } from '../helpers/repo.js';

const root = tempDir('mlx-read-ahead-');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('ReadAhead', () => {
  it('hands over each small file with a recorded size, in order, and nothing for the rest', async () => {
    const datas = Array.from({ length: 300 }, (_, i) => bytes(100 + (i % 50) * 41, `ra${i}`));
    datas.forEach((d, i) => fs.writeFileSync(path.join(root, `f${i}`), d));
    const item = (i: number): ReadAheadItem => {
      const file = path.join(root, `f${i}`);
      if (i % 10 === 1) return { file, size: undefined }; // no recorded size: the caller reads it
      if (i % 10 === 2) return { file, size: 5000 }; // at the limit: not small
      if (i % 10 === 3) return { file, size: 10 }; // recorded too short: its first bytes
      if (i % 10 === 4) return { file, size: datas[i]!.length + 7 }; // recorded too long: what there is
      if (i === 5) return { file: path.join(root, 'absent'), size: 10 };
      return { file, size: datas[i]!.length };
    };
    let furthest = -1;
    let taking = 0;
    const ahead = new ReadAhead(datas.length, (i) => {
      furthest = Math.max(furthest, i);
      return item(i);
    }, { limit: 5000, depth: 8, maxBytes: 4000 });
    for (let i = 0; i < datas.length; i++) {
      taking = i;
      const got = await ahead.take(i);
      // Never more than `depth` files beyond the one taken are asked for (skipped ones count nothing).
      expect(furthest - taking).toBeLessThanOrEqual(8 * 2);
      if (i === 5 || i % 10 === 1 || i % 10 === 2) expect(got).toBeUndefined();
      else if (i % 10 === 3) expect(got!.equals(datas[i]!.subarray(0, 10))).toBe(true);
      else expect(got!.equals(datas[i]!)).toBe(true);
    }
  });
});

describe('SmallObjectFeed', () => {
  const datas = Array.from({ length: 40 }, (_, i) => bytes(50 + i * 13, `feed${i}`));
  const dir = path.join(root, 'feed');
  fs.mkdirSync(dir);
  datas.forEach((d, i) => fs.writeFileSync(path.join(dir, `f${i}`), d));
  const itemAt = (i: number): ReadAheadItem => (i === 7 ? { file: path.join(dir, 'absent'), size: 5 } : { file: path.join(dir, `f${i}`), size: i === 9 ? undefined : datas[i]!.length });

  for (const [how, diskReadMs, ahead] of [['from the page cache: on this thread', Infinity, false], ['once reads wait on the disk: read ahead', -1, true]] as const) {
    it(`gives the same bytes ${how}`, async () => {
      const feed = new SmallObjectFeed(datas.length, itemAt, { limit: 10_000, diskReadMs, diskReadsToSwitch: 3 });
      for (let i = 0; i < datas.length; i++) {
        const got = await feed.take(i);
        if (i === 7 || i === 9) expect(got).toBeUndefined();
        else expect(got?.equals(datas[i]!)).toBe(true);
        // Every read counts as a disk read at -1 ms: the third one switches.
        if (i === 2) expect(feed.readingAhead).toBe(ahead);
      }
      expect(feed.readingAhead).toBe(ahead);
    });
  }

  it('reads ahead only after slow reads in a row: one now and then is a busy core, not the disk', async () => {
    // A scripted clock: reading item i takes 5 ms where `slow(i)`, else 0.1 ms.
    let current = 0;
    const clockFor = (slow: (i: number) => boolean) => {
      let now = 0;
      return () => (now += slow(current) ? 5 : 0.1);
    };
    const take = (feed: SmallObjectFeed, i: number) => ((current = i), feed.take(i));
    const scattered = new SmallObjectFeed(datas.length, itemAt, { limit: 10_000, diskReadsToSwitch: 4, clock: clockFor((i) => i % 2 === 0) });
    for (let i = 0; i < datas.length; i++) await take(scattered, i);
    expect(scattered.readingAhead).toBe(false);
    const inARow = new SmallObjectFeed(datas.length, itemAt, { limit: 10_000, diskReadsToSwitch: 4, clock: clockFor((i) => i >= 10) });
    for (let i = 0; i < 13; i++) await take(inARow, i);
    expect(inARow.readingAhead).toBe(false);
    await take(inARow, 13);
    expect(inARow.readingAhead).toBe(true);
  });
});
