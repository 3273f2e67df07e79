import { describe, expect, it } from 'vitest';
import { ProgressLine } from '../../src/cli/progress.js';
import { formatDuration, formatFrame, type PhaseState } from '../../src/cli/progress-frame.js';

const MiB = 1024 * 1024;

function phase(over: Partial<PhaseState>): PhaseState {
  return { label: 'push', phase: 'uploading', startedAt: 0, files: 0, bytes: 0, totalFiles: undefined, totalBytes: 0, ...over };
}

/** A line over a fake clock, its frames collected with escapes removed. */
function line(everyPhase = false, quietStartMs = 0) {
  const frames: string[] = [];
  const raw: string[] = [];
  const l = new ProgressLine('add', (t) => raw.push(t) && frames.push(...t.split('\r').map((f) => f.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')).filter(Boolean)), { quietStartMs, everyPhase }, 0);
  return { l, frames, raw };
}

describe('a progress frame', () => {
  it('is a spinner with counts until the total is known, never a bar at 100%', () => {
    expect(formatFrame(phase({}), 500, 0)).toBe('push: uploading ⠋');
    expect(formatFrame(phase({ files: 1234, bytes: 3 * MiB }), 2000, 1)).toBe('push: uploading ⠙ 1,234 files | 3.00 MiB | 1.50 MiB/s');
  });

  it('is a bar from 0 once the total is known, with formatted totals and, after a second, the time left', () => {
    expect(formatFrame(phase({ totalFiles: 20002, totalBytes: 200 * MiB }), 10, 0)).toBe('push: uploading ░░░░░░░░░░░░░░░░░░░░ 0% | 0/20,002 files | 0 B of 200.0 MiB');
    const half = formatFrame(phase({ totalFiles: 20002, totalBytes: 200 * MiB, files: 10001, bytes: 100 * MiB }), 4000, 0);
    expect(half).toBe('push: uploading ██████████░░░░░░░░░░ 50% | 10,001/20,002 files | 100.0 MiB of 200.0 MiB | 25.0 MiB/s | ETA 4s');
  });

  it('says 100% only when every file is done, and never more bytes than the total', () => {
    expect(formatFrame(phase({ totalFiles: 2, totalBytes: 10, files: 1, bytes: 12 }), 10, 0)).toMatch(/ 99% \| 1\/2 files \| 10 B of 10 B/);
    expect(formatFrame(phase({ totalFiles: 2, totalBytes: 10, files: 2, bytes: 10 }), 10, 0)).toMatch(/ 100% \| 2\/2 files \| 10 B of 10 B/);
  });

  it('tells durations in seconds, minutes and hours', () => {
    expect([formatDuration(4.2), formatDuration(185), formatDuration(7620)]).toEqual(['5s', '3m 05s', '2h 07m']);
  });
});

describe('when the line is drawn', () => {
  it('draws at most one frame per 100 ms however often work is reported, and the last state at the end', () => {
    const { l, frames, raw } = line();
    l.report({ phase: 'hashing', totalFiles: 1000, totalBytes: 1000 }, 0);
    for (let i = 1; i <= 999; i++) l.report({ files: 1, bytes: 1 }, i / 10); // 999 reports within 100 ms
    expect(frames.length).toBe(1); // the first report only
    l.report({ files: 1, bytes: 1 }, 150);
    expect(frames.length).toBe(2);
    l.stop(160);
    expect(frames.length).toBe(2); // the last frame drawn already shows the end
    expect(frames.at(-1)).toMatch(/^add: hashing █+ 100% \| 1,000\/1,000 files/);
    expect(raw.at(-1)).toMatch(/^\r\x1b\[K/); // the line is cleared for what the command prints
  });

  it('draws the state the work ended in when the last frame drawn is older', () => {
    const { l, frames } = line();
    l.report({ phase: 'hashing', totalFiles: 2, totalBytes: 2 }, 0);
    l.report({ files: 2, bytes: 2 }, 10);
    expect(frames.at(-1)).toMatch(/ 0% /);
    l.stop(20);
    expect(frames.at(-1)).toMatch(/ 100% \| 2\/2 files/);
  });

  it('draws nothing for work shorter than the quiet start', () => {
    const { l, frames } = line(false, 300);
    l.report({ phase: 'hashing', totalFiles: 1, totalBytes: 1 }, 0);
    l.report({ files: 1, bytes: 1 }, 200);
    l.stop(250);
    expect(frames).toEqual([]);
  });

  it('with every phase shown, draws each phase as it starts, as its total is known and as it ends', () => {
    const { l, frames } = line(true);
    l.report({ phase: 'scanning data' }, 0);
    l.report({ phase: 'hashing data', totalFiles: 2, totalBytes: 2 }, 1);
    l.report({ files: 1, bytes: 1 }, 2);
    l.report({ files: 1, bytes: 1 }, 3);
    l.report({ phase: 'writing' }, 4);
    expect(frames).toEqual([
      'add: scanning data ⠋',
      expect.stringMatching(/^add: hashing data ░+ 0% \| 0\/2 files \| 0 B of 2 B$/),
      expect.stringMatching(/^add: hashing data █+ 100% \| 2\/2 files \| 2 B of 2 B/),
      expect.stringMatching(/^add: writing /),
    ]);
  });
});
