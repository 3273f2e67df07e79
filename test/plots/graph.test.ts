import { describe, expect, it } from 'vitest';
import { graphSvg, layeredLayout, type Graph } from '../../src/plots/graph.js';

const lineage: Graph = {
  title: 'lineage',
  nodes: [
    { id: 'eval-out', lines: ['out/eval.json', 'b3:bbbb'], shape: 'box' },
    { id: 'data', lines: ['data/train/', 'b3:1234abcd'], shape: 'cylinder' },
    { id: 'code', lines: ['train.mjs', 'b3:9999'], shape: 'cylinder' },
    { id: 'train', lines: ['run train · r-0001', 'node train.mjs', 'seed 42 · lr=0.1'], shape: 'rounded', highlight: true },
    { id: 'model', lines: ['out/model.json', 'b3:aaaa'], shape: 'box', highlight: true },
    { id: 'eval', lines: ['run eval <&> · r-0002', 'node eval.mjs'], shape: 'rounded' },
  ],
  edges: [
    { from: 'data', to: 'train' },
    { from: 'code', to: 'train' },
    { from: 'train', to: 'model' },
    { from: 'model', to: 'eval' },
    { from: 'eval', to: 'eval-out' },
    { from: 'model', to: 'eval-out', label: 'same content' },
  ],
};

describe('graph drawing', () => {
  it('puts every node right of the nodes it comes from', () => {
    const columns = layeredLayout(lineage);
    const col = (id: string) => columns.findIndex((c) => c.includes(id));
    for (const e of lineage.edges) expect(col(e.to)).toBeGreaterThan(col(e.from));
    expect(columns[0]).toEqual(['data', 'code']);
  });

  it('survives a cycle and edges to unknown nodes', () => {
    const columns = layeredLayout({ nodes: [{ id: 'a', lines: ['a'], shape: 'box' }, { id: 'b', lines: ['b'], shape: 'box' }], edges: [{ from: 'a', to: 'b' }, { from: 'b', to: 'a' }, { from: 'a', to: 'zz' }] });
    expect(columns.flat().sort()).toEqual(['a', 'b']);
  });

  it('matches its snapshot: shapes, highlighted nodes, escaped labels, no ids to collide on a page', async () => {
    const svg = graphSvg(lineage);
    expect(graphSvg(lineage)).toBe(svg);
    expect(svg.match(/class="node /g)).toHaveLength(6);
    expect(svg.match(/class="edge"/g)).toHaveLength(6);
    expect(svg.match(/ changed"/g)).toHaveLength(2);
    expect(svg).toContain('run eval &lt;&amp;&gt; · r-0002');
    expect(svg).not.toMatch(/ id=/);
    await expect(svg).toMatchFileSnapshot('__snapshots__/lineage-graph.svg');
  });
});
