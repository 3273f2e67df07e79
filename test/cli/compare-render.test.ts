import { describe, expect, it } from 'vitest';
import { compareCsv, compareMarkdown, compareText } from '../../src/cli/render/compare.js';
import { compareRuns } from '../../src/run/compare.js';
import { sweep } from '../helpers/runs.js';

// The three renderings of one comparison, compared whole against stored files
// (test/cli/__snapshots__/compare-*.txt). After a deliberate change: npx vitest run <this file> -u.
describe('runs --compare rendering', () => {
  const cmp = compareRuns(sweep(), { sort: 'accuracy' });

  it('text: aligned columns, params | metrics, best starred', async () => {
    await expect(compareText(cmp).join('\n') + '\n').toMatchFileSnapshot('./__snapshots__/compare-text.txt');
  });

  it('Markdown: one table, best in bold', async () => {
    await expect(compareMarkdown(compareRuns(sweep(), { metrics: ['accuracy:min', 'bleu'] })).join('\n') + '\n').toMatchFileSnapshot('./__snapshots__/compare-md.txt');
  });

  it('CSV: values only, quoted where needed', async () => {
    const quoted = sweep();
    quoted[0]!.run.metrics['eval.json'] = { loss: 0.7, bleu: 'a, "b"' };
    await expect(compareCsv(compareRuns(quoted)).join('\n') + '\n').toMatchFileSnapshot('./__snapshots__/compare-csv.txt');
  });

  it('no runs', () => {
    const none = compareRuns([]);
    expect([compareText(none), compareMarkdown(none), compareCsv(none)]).toEqual([
      ['no runs recorded yet (mlx run -n <name> ... -- <command>)'],
      ['no runs recorded yet (mlx run -n <name> ... -- <command>)'],
      ['run,id,commit,started'],
    ]);
  });
});
