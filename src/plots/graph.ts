import { shorten } from './frame.js';
import { coord, el, escapeXml, svgDocument, text } from './svg.js';

/** A node of a directed graph to draw: its label lines (the first in bold) and its shape. */
export interface GraphNode {
  id: string;
  lines: string[];
  /** `rounded`: a process (a run); `box`: a thing it made; `cylinder`: source data. */
  shape: 'rounded' | 'box' | 'cylinder';
  /** Outlined in orange (e.g. new or changed in a pull request). */
  highlight?: boolean;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** Drawn dashed, with the label at its middle (a relation other than data flow). */
  label?: string;
}

export interface Graph {
  title: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

const LINE = 14;
const PAD = 8;
const CHARS = 48;
const COLUMN_GAP = 56;
const ROW_GAP = 16;
const MARGIN = 12;

interface Placed {
  node: GraphNode;
  lines: string[];
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Columns from left to right by the longest path from a source (so every edge points right), nodes
 * in a column ordered by the mean position of their neighbours in the column before (a few sweeps,
 * ties kept in input order). Deterministic for a given input: no randomness, no floating layout.
 */
export function layeredLayout(g: Pick<Graph, 'nodes' | 'edges'>): string[][] {
  const ids = new Set(g.nodes.map((n) => n.id));
  const edges = g.edges.filter((e) => ids.has(e.from) && ids.has(e.to) && e.from !== e.to);
  const layer = new Map(g.nodes.map((n) => [n.id, 0]));
  // Longest path by relaxation; a cycle (never in lineage) stops after |nodes| rounds instead of looping.
  for (let round = 0; round < g.nodes.length; round++) {
    let moved = false;
    for (const e of edges) {
      if (layer.get(e.to)! <= layer.get(e.from)!) {
        layer.set(e.to, layer.get(e.from)! + 1);
        moved = true;
      }
    }
    if (!moved) break;
  }
  const columns: string[][] = [];
  for (const n of g.nodes) (columns[layer.get(n.id)!] ??= []).push(n.id);
  const order = new Map<string, number>();
  const place = () => columns.forEach((c) => c?.forEach((id, i) => order.set(id, i)));
  place();
  const parents = new Map<string, string[]>();
  for (const e of edges) parents.set(e.to, [...(parents.get(e.to) ?? []), e.from]);
  for (let sweep = 0; sweep < 4; sweep++) {
    for (const column of columns.slice(1)) {
      if (!column) continue;
      const key = (id: string) => {
        const ps = parents.get(id) ?? [];
        return ps.length ? ps.reduce((s, p) => s + order.get(p)!, 0) / ps.length : order.get(id)!;
      };
      const keyed = column.map((id, i) => ({ id, k: key(id), i }));
      keyed.sort((a, b) => a.k - b.k || a.i - b.i);
      keyed.forEach((k, i) => (column[i] = k.id));
      column.forEach((id, i) => order.set(id, i));
    }
  }
  return columns.filter(Boolean);
}

/** A lineage-style graph as SVG: arrows from left to right, no script and no ids, so several can share one page. */
export function graphSvg(g: Graph): string {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const columns = layeredLayout(g);
  const placed = new Map<string, Placed>();
  let x = MARGIN;
  const heights: number[] = [];
  for (const column of columns) {
    const boxes = column.map((id) => {
      const node = byId.get(id)!;
      const lines = node.lines.map((l) => shorten(l, CHARS));
      return { node, lines, w: Math.max(...lines.map((l) => l.length), 4) * 6.4 + 2 * PAD, h: lines.length * LINE + 2 * PAD + (node.shape === 'cylinder' ? 8 : 0) };
    });
    const w = Math.max(...boxes.map((b) => b.w));
    let y = MARGIN;
    for (const b of boxes) {
      placed.set(b.node.id, { ...b, x, y, w });
      y += b.h + ROW_GAP;
    }
    heights.push(y - ROW_GAP);
    x += w + COLUMN_GAP;
  }
  const width = Math.max(x - COLUMN_GAP + MARGIN, 2 * MARGIN);
  const height = Math.max(...heights, MARGIN) + MARGIN;
  // Shorter columns are centred against the tallest.
  columns.forEach((column, i) => column.forEach((id) => (placed.get(id)!.y += (height - MARGIN - heights[i]!) / 2 - MARGIN / 2)));
  const edges = g.edges.flatMap((e) => {
    const [a, b] = [placed.get(e.from), placed.get(e.to)];
    return a && b && a !== b ? [edgeSvg(a, b, e.label)] : [];
  });
  const nodes = [...placed.values()].map(nodeSvg);
  return svgDocument(width, height, g.title, [el('rect', { width, height, fill: '#fff' }), ...edges, ...nodes], { class: 'graph' });
}

function nodeSvg(p: Placed): string {
  const style = p.node.shape === 'rounded' ? { fill: '#e7f0fd', stroke: '#4a6fa5' } : p.node.shape === 'cylinder' ? { fill: '#f4f4f4', stroke: '#8a8a8a' } : { fill: '#fff', stroke: '#8a8a8a' };
  const stroke = p.node.highlight ? { stroke: '#d9480f', 'stroke-width': 3 } : { 'stroke-width': 1 };
  let shape: string;
  if (p.node.shape === 'cylinder') {
    const [x, y, w, h, ry] = [p.x, p.y, p.w, p.h, 4];
    shape = el('path', { d: `M${coord(x)} ${coord(y + ry)}A${coord(w / 2)} ${ry} 0 0 1 ${coord(x + w)} ${coord(y + ry)}V${coord(y + h - ry)}A${coord(w / 2)} ${ry} 0 0 1 ${coord(x)} ${coord(y + h - ry)}Z M${coord(x)} ${coord(y + ry)}A${coord(w / 2)} ${ry} 0 0 0 ${coord(x + w)} ${coord(y + ry)}`, ...style, ...stroke });
  } else shape = el('rect', { x: p.x, y: p.y, width: p.w, height: p.h, rx: p.node.shape === 'rounded' ? 10 : 2, ...style, ...stroke });
  const top = p.y + PAD + (p.node.shape === 'cylinder' ? 8 : 0) + 10;
  const labels = p.lines.map((l, i) => text(p.x + PAD, top + i * LINE, l, i === 0 ? { 'font-weight': 'bold', class: 'node-label' } : { fill: '#444', 'font-family': 'monospace', 'font-size': 10 }));
  return el('g', { class: `node ${p.node.shape}${p.node.highlight ? ' changed' : ''}`, 'data-id': p.node.id }, el('title', {}, escapeXml(p.node.lines.join('\n'))), shape, ...labels);
}

function edgeSvg(a: Placed, b: Placed, label: string | undefined): string {
  const [x1, y1, x2, y2] = [a.x + a.w, a.y + a.h / 2, b.x, b.y + b.h / 2];
  const mid = (x1 + x2) / 2;
  const d = `M${coord(x1)} ${coord(y1)}C${coord(mid)} ${coord(y1)} ${coord(mid)} ${coord(y2)} ${coord(x2 - 6)} ${coord(y2)}`;
  const head = `M${coord(x2)} ${coord(y2)}L${coord(x2 - 7)} ${coord(y2 - 4)}L${coord(x2 - 7)} ${coord(y2 + 4)}Z`;
  return el(
    'g',
    { class: 'edge' },
    el('path', { d, fill: 'none', stroke: '#777', 'stroke-width': 1.2, 'stroke-dasharray': label ? '4 3' : undefined }),
    el('path', { d: head, fill: '#777' }),
    ...(label ? [text(mid, (y1 + y2) / 2 - 4, label, { 'text-anchor': 'middle', fill: '#666', 'font-size': 10 })] : []),
  );
}
