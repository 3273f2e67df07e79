import type { PointerSource } from '../../formats/pointer.js';
import { shortOid } from '../../hash/oid.js';
import { importedFrom } from './imports.js';
import { seedSummary } from './values.js';
import type { ArtifactNode, Lineage, LineageEdge, LineageNode, RunNode } from '../../run/lineage.js';

/** A lineage graph as text: a Mermaid flowchart, a Graphviz digraph, or an indented tree. */

/** Short, stable node ids for diagram languages (`n0`, `n1`, ...), in node order. */
function shortIds(g: Pick<Lineage, 'nodes'>): Map<string, string> {
  return new Map(g.nodes.map((n, i) => [n.id, `n${i}`]));
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** `lr=0.1, epochs=3` from `{params.yaml: {lr: 0.1, epochs: 3}}`. */
function paramSummary(params: RunNode['params']): string {
  return Object.values(params)
    .flatMap((kv) => Object.entries(kv).map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`))
    .join(', ');
}

/** `imported from <repo>@<commit> (<path>), written there by run <name> (<id>)`. */
function importLine(s: PointerSource): string {
  const by = s.run === undefined ? '' : `, written there by run ${s.run}${s.run_id ? ` (${s.run_id})` : ''}`;
  return `${importedFrom(s)}${by}`;
}

/** The lines of a node's label, shared by the diagram formats. */
export function labelLines(n: LineageNode): string[] {
  if (n.type === 'artifact') return [`${n.path}${n.kind === 'dir' ? '/' : ''}`, shortOid(n.oid), ...(n.imported ? [importLine(n.imported)] : [])];
  const lines = [`run ${n.name} · ${n.runId}`, truncate(n.cmd.join(' '), 60)];
  const extra = [seedSummary(n) === '-' ? '' : `seed ${seedSummary(n)}`, truncate(paramSummary(n.params), 60)].filter(Boolean).join(' · ');
  if (extra) lines.push(extra);
  return lines;
}

/** Mermaid text for a quoted label: entity codes for what would end the string or be read as HTML/markdown. */
function mermaidText(s: string): string {
  return s.replace(/#/g, '#35;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;').replace(/`/g, '#96;');
}

/**
 * A Mermaid flowchart (renders in GitHub and GitLab Markdown): artifacts as boxes, source data as
 * cylinders, runs as rounded boxes. Ids are `n0`, `n1`, ... so no path can break the syntax; `highlight`
 * names node ids to outline (e.g. what a pull request changed).
 */
export function toMermaid(g: Pick<Lineage, 'nodes' | 'edges'>, opts: { direction?: 'LR' | 'TD'; highlight?: string[] } = {}): string {
  const ids = shortIds(g);
  const lines = [`graph ${opts.direction ?? 'LR'}`];
  for (const n of g.nodes) {
    const label = `"${labelLines(n).map(mermaidText).join('<br/>')}"`;
    const id = ids.get(n.id)!;
    if (n.type === 'run') lines.push(`  ${id}(${label})`);
    else if (n.source) lines.push(`  ${id}[(${label})]`);
    else lines.push(`  ${id}[${label}]`);
  }
  for (const e of g.edges) {
    const [from, to] = [ids.get(e.from), ids.get(e.to)];
    if (!from || !to) continue;
    if (e.kind === 'same') lines.push(`  ${from} -. same content .-> ${to}`);
    else if (e.kind === 'part') lines.push(`  ${from} -. contains .-> ${to}`);
    else lines.push(`  ${from} --> ${to}`);
  }
  const classes: [string, string, string[]][] = [
    ['run', 'fill:#e7f0fd,stroke:#4a6fa5,color:#1b2b44', g.nodes.filter((n) => n.type === 'run').map((n) => n.id)],
    ['source', 'fill:#f4f4f4,stroke:#8a8a8a,color:#222', g.nodes.filter((n) => n.type === 'artifact' && n.source).map((n) => n.id)],
    ['changed', 'stroke:#d9480f,stroke-width:3px', (opts.highlight ?? []).filter((id) => ids.has(id))],
  ];
  for (const [name, style, members] of classes) {
    if (members.length === 0) continue;
    lines.push(`  classDef ${name} ${style}`);
    lines.push(`  class ${members.map((m) => ids.get(m)!).join(',')} ${name}`);
  }
  return lines.join('\n');
}

function dotString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** A Graphviz digraph (`dot -Tsvg`), same shapes and ids as the Mermaid diagram. */
export function toDot(g: Pick<Lineage, 'nodes' | 'edges'>): string {
  const ids = shortIds(g);
  const lines = ['digraph lineage {', '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=10];', '  edge [color="#555555"];'];
  for (const n of g.nodes) {
    const label = dotString(labelLines(n).join('\n'));
    const style =
      n.type === 'run' ? 'shape=box, style="rounded,filled", fillcolor="#e7f0fd"' : n.source ? 'shape=cylinder, style=filled, fillcolor="#f4f4f4"' : 'shape=note';
    lines.push(`  ${ids.get(n.id)} [label=${label}, ${style}];`);
  }
  for (const e of g.edges) {
    const [from, to] = [ids.get(e.from), ids.get(e.to)];
    if (!from || !to) continue;
    const attrs = e.kind === 'same' ? ' [style=dashed, label="same content"]' : e.kind === 'part' ? ' [style=dashed, label="contains"]' : '';
    lines.push(`  ${from} -> ${to}${attrs};`);
  }
  lines.push('}');
  return lines.join('\n');
}

/**
 * An indented tree from each target back to its sources: artifact, the run that wrote it, that run's
 * inputs, and so on. A run reached twice is shown once and referred to after.
 */
export function toTree(g: Lineage): string[] {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const into = new Map<string, LineageEdge[]>();
  for (const e of g.edges) into.set(e.to, [...(into.get(e.to) ?? []), e]);
  const shown = new Set<string>();
  const lines: string[] = [];
  const artifactLine = (a: ArtifactNode, note = '') =>
    `${a.path}${a.kind === 'dir' ? '/' : ''}  ${shortOid(a.oid)}${a.imported ? `  (${importLine(a.imported)})` : a.source ? '  (source: no recorded run produced it)' : ''}${note}`;

  /** Children of an artifact: the run that wrote it, or the artifact it is a copy or part of. */
  const walkArtifact = (a: ArtifactNode, prefix: string, onPath: Set<string>) => {
    const ins = into.get(a.id) ?? [];
    ins.forEach((e, i) => {
      const last = i === ins.length - 1;
      const branch = `${prefix}${last ? '└─ ' : '├─ '}`;
      const next = `${prefix}${last ? '   ' : '│  '}`;
      const from = byId.get(e.from)!;
      if (from.type === 'run') walkRun(from, branch, next, onPath);
      else {
        lines.push(`${branch}${e.kind === 'part' ? 'inside ' : 'same content as '}${artifactLine(from)}`);
        if (!onPath.has(from.id)) walkArtifact(from, next, new Set([...onPath, from.id]));
      }
    });
  };
  const walkRun = (r: RunNode, branch: string, prefix: string, onPath: Set<string>) => {
    const where = r.recordedIn ? `mlx.lock@${r.recordedIn.slice(0, 8)}` : 'mlx.lock (work tree)';
    if (shown.has(r.id) || onPath.has(r.id)) {
      lines.push(`${branch}run ${r.name} (${r.runId})  (shown above)`);
      return;
    }
    shown.add(r.id);
    lines.push(`${branch}run ${r.name} (${r.runId})  recorded in ${where}`);
    lines.push(`${prefix}│  $ ${r.cmd.join(' ')}`);
    const facts = [seedSummary(r) === '-' ? undefined : `seed ${seedSummary(r)}`, paramSummary(r.params) || undefined, `env ${shortOid(r.env)}`].filter(Boolean);
    lines.push(`${prefix}│  ${facts.join(' · ')}`);
    const deps = (into.get(r.id) ?? []).map((e) => byId.get(e.from)).filter((n): n is ArtifactNode => n?.type === 'artifact');
    deps.forEach((d, i) => {
      const last = i === deps.length - 1;
      lines.push(`${prefix}${last ? '└─ ' : '├─ '}${artifactLine(d)}`);
      walkArtifact(d, `${prefix}${last ? '   ' : '│  '}`, new Set([...onPath, r.id, d.id]));
    });
  };

  for (const t of g.targets) {
    const a = byId.get(t.node) as ArtifactNode;
    lines.push(t.within ? `${t.path}  (inside ${artifactLine(a)})` : artifactLine(a));
    walkArtifact(a, '', new Set([a.id]));
  }
  return lines;
}
