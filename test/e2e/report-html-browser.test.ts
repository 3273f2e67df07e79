import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, findChromium } from '../helpers/chromium.js';
import { expectCleanError, mlx, mlxOk } from '../helpers/cli.js';
import { sweepRepo } from '../helpers/sweep.js';

// The page of `mlx report --html` opened in a real browser (the system's Chromium, headless): the
// charts and the lineage graph must be laid out with a size, and say what they show. A screenshot
// is kept under test-artifacts/ to look at. Without Chromium this fails: .ci/run installs it.

const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');
let browser: Browser | undefined;
let page: string;
let dir: string;

// Without Chromium every test below fails (never skips), each saying so.
const binary = findChromium();
const inBrowser = (): Browser => {
  if (!browser) throw new Error('no Chromium found (set CHROMIUM, or apt-get install chromium): the page cannot be checked in a browser');
  return browser;
};

beforeAll(async () => {
  dir = await sweepRepo([0.05, 0.2]);
  page = path.join(dir, 'report.html');
  mlxOk(dir, 'report', 'HEAD', '--html', page);
  if (!binary) return;
  browser = await Browser.launch(binary, 1200, 900);
  await browser.open(pathToFileURL(page).href);
});

afterAll(async () => {
  await browser?.close();
});

/** Runs in the page: for each selected element, its rendered width and height and its text. */
const boxes = (selector: string) => `[...document.querySelectorAll(${JSON.stringify(selector)})].map((e) => { const r = e.getBoundingClientRect(); return { w: Math.round(r.width), h: Math.round(r.height), text: e.textContent }; })`;

type Box = { w: number; h: number; text: string };

describe('report --html in a browser', () => {
  it('draws a line chart per metric history and bars for the changed final metrics', async () => {
    const charts = await inBrowser().evaluate<Box[]>(boxes('.charts svg.chart'));
    const titles = await inBrowser().evaluate<string[]>(`[...document.querySelectorAll('svg.chart .chart-title')].map((t) => t.textContent)`);
    expect(titles).toEqual(['train: loss', 'train: acc', 'train: accuracy', 'train: loss']);
    expect(charts).toHaveLength(4);
    for (const c of charts) expect(c.w * c.h).toBeGreaterThan(100 * 100);
    const series = await inBrowser().evaluate<Box[]>(boxes('svg.line-chart g.series path'));
    expect(series).toHaveLength(4); // base and head, in two charts
    for (const s of series) expect(s.h).toBeGreaterThan(20); // a curve, not a flat or empty path
    const legend = await inBrowser().evaluate<string[]>(`[...document.querySelectorAll('svg.line-chart .legend-entry text')].map((t) => t.textContent)`);
    expect(legend.every((l) => /^(base|head) r-[0-9a-f]{8}/.test(l))).toBe(true);
    expect(await inBrowser().evaluate<number>(`document.querySelectorAll('svg.bar-chart g.bar rect').length`)).toBe(4);
  });

  it('draws the lineage graph: the data, the run and its outputs, the changed ones outlined', async () => {
    const nodes = await inBrowser().evaluate<Box[]>(boxes('#lineage svg g.node'));
    const labels = await inBrowser().evaluate<string[]>(`[...document.querySelectorAll('#lineage .node-label')].map((t) => t.textContent)`);
    expect(labels).toEqual(expect.arrayContaining(['data/', 'train.mjs', 'out/model.json']));
    expect(labels.some((l) => /^run train · r-[0-9a-f]+$/.test(l))).toBe(true);
    for (const n of nodes) expect(n.w).toBeGreaterThan(40);
    expect(await inBrowser().evaluate<number>(`document.querySelectorAll('#lineage g.edge').length`)).toBeGreaterThanOrEqual(3);
    expect(await inBrowser().evaluate<number>(`document.querySelectorAll('#lineage g.node.changed').length`)).toBeGreaterThanOrEqual(2);
  });

  it('shows the tables, needs nothing from the network, and leaves a screenshot', async () => {
    expect(await inBrowser().evaluate<string>(`document.querySelector('#params tbody').textContent`)).toContain('0.05');
    expect(await inBrowser().evaluate<number>(`document.querySelectorAll('#metrics tbody tr').length`)).toBe(2);
    const external = await inBrowser().evaluate<number>(`performance.getEntriesByType('resource').length`);
    expect(external).toBe(0);
    expect(fs.readFileSync(page, 'utf8')).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    const png = await inBrowser().screenshot();
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    fs.writeFileSync(path.join(ARTIFACTS, 'report-page.png'), png);
    fs.copyFileSync(page, path.join(ARTIFACTS, 'report-page.html'));
  });

  it('runs --compare --html: the table with the best values marked, and the runs\' charts', async () => {
    const file = path.join(dir, 'compare.html');
    expect(mlxOk(dir, 'runs', '--compare', '--all', '--html', file).stdout).toBe('wrote compare.html (2 run(s), 4 chart(s))\n');
    const b = inBrowser();
    await b.open(pathToFileURL(file).href);
    expect(await b.evaluate<string[]>(`[...document.querySelectorAll('#compare th')].map((t) => t.textContent)`)).toEqual(['run', 'id', 'commit', 'lr', 'accuracy ↑', 'loss ↓']);
    expect(await b.evaluate<string[]>(`[...document.querySelectorAll('#compare td.best')].map((t) => t.textContent)`)).toEqual(['0.9497', '0.1007']);
    const charts = await b.evaluate<Box[]>(boxes('.charts svg.chart'));
    expect(charts).toHaveLength(4);
    for (const c of charts) expect(c.w * c.h).toBeGreaterThan(100 * 100);
    expect(await b.evaluate<number>(`document.querySelectorAll('svg.line-chart g.series').length`)).toBe(4);
    const png = await b.screenshot();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    fs.writeFileSync(path.join(ARTIFACTS, 'compare-page.png'), png);
  });

  it('is one format at a time', () => {
    expect(expectCleanError(mlx(dir, 'report', 'HEAD', '--md', '--html', 'x.html'))).toBe('mlx: error: --md or --html, not both');
    expect(expectCleanError(mlx(dir, 'runs', '--compare', '--csv', '--html', 'x.html'))).toBe('mlx: error: --html or --csv, not both');
    expect(fs.existsSync(path.join(dir, 'x.html'))).toBe(false);
  });
});
