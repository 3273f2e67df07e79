import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useTempStore } from '../helpers/repo.js';

const { store } = useTempStore();

describe('ObjectStore.contentsStamp', () => {
  it('stays equal while nothing enters or leaves the store, and moves when an object does', () => {
    const s = store();
    const a = s.putBytes(Buffer.from('first object'));
    const before = s.contentsStamp();
    expect(s.contentsStamp()).toBe(before);
    // Reading and re-storing existing content changes nothing.
    s.readBytes(a);
    s.putBytes(Buffer.from('first object'));
    expect(s.contentsStamp()).toBe(before);
    const b = s.putBytes(Buffer.from('second object'));
    const added = s.contentsStamp();
    expect(added).not.toBe(before);
    // A removal by hand, outside mlx, moves it too.
    fs.rmSync(s.pathOf(b), { force: true });
    expect(s.contentsStamp()).not.toBe(added);
  });
});
