import { isFileEntry } from '../formats/manifest.js';
import { emptyRunLock, parseRunLock, RUN_LOCK_FILE, type Artifact, type Run } from '../formats/run-lock.js';
import { shortOid, type Oid } from '../hash/oid.js';
import { openGit, readFileAt, resolveRevision, type GitRepo } from '../git/git-repo.js';
import { E, MlxError } from '../util/errors.js';
import type { Repo } from '../workspace/repo.js';
import { ManifestSource, pointerSet, WORKSPACE } from '../repository/revisions.js';
import { catalog, type CatalogEntry } from './catalog.js';
import { readRunLock } from './lockfile.js';

/** A version of a path: its content at the time a run read or wrote it. */
export interface ArtifactNode {
  id: string;
  type: 'artifact';
  path: string;
  oid: Oid;
  kind?: 'file' | 'dir';
  size?: number;
  /** No recorded run produced this content: source data (or code kept in git). */
  source: boolean;
}

/** A recorded run, with what defines it. */
export interface RunNode {
  id: string;
  type: 'run';
  name: string;
  runId: string;
  cmd: string[];
  seed: number | null;
  params: Run['params'];
  env: Oid;
  record: Oid;
  started: string;
  /** The commit whose mlx.lock holds the run, or null for the work tree's mlx.lock. */
  recordedIn: string | null;
}

export type LineageNode = ArtifactNode | RunNode;

/**
 * `input`: an artifact a run read; `output`: an artifact a run wrote; `same`: the same content under
 * another path (a run's output read elsewhere as a dependency); `part`: a file inside a directory output.
 */
export interface LineageEdge {
  from: string;
  to: string;
  kind: 'input' | 'output' | 'same' | 'part';
}

export interface LineageTarget {
  /** The path asked about. */
  path: string;
  /** Its node: the path itself, or the tracked directory output holding it. */
  node: string;
  /** The tracked directory the path lies in, when it is not a tracked path itself. */
  within?: string;
}

/** How artifacts came to be, as a graph: artifacts and runs, edges in the direction data flowed. */
export interface Lineage {
  /** The revision as given, or `workspace`. */
  rev: string;
  commit?: string;
  targets: LineageTarget[];
  nodes: LineageNode[];
  edges: LineageEdge[];
  warnings: string[];
}

/** A run found somewhere, with the lockfile it came from (searched first for its own deps). */
interface Located {
  name: string;
  run: Run;
  /** Commit whose mlx.lock holds it; null for the work tree's. */
  where: string | null;
}

/** The producer of some content: the run, and the output path under which it wrote that content. */
interface Producer extends Located {
  outPath: string;
  /** Set when the content is a file inside the directory output `outPath`. */
  part?: string;
}

export const artifactId = (path: string, oid: Oid): string => `art:${path}@${oid}`;
export const runNodeId = (run: Run): string => `run:${run.record}`;

/**
 * `mlx lineage`: how the artifacts at `paths` were produced at `rev` (default: the work tree). Each
 * artifact's producing run is looked up in that revision's mlx.lock, then — matching by oid, so the
 * trail crosses commits and branches — in the catalog of every branch's history; the same is done for
 * every dependency of every run found, until content no recorded run produced (source data).
 */
export async function lineage(repo: Repo, paths: string[], opts: { rev?: string } = {}): Promise<Lineage> {
  const tracer = new Tracer(repo);
  const rev = opts.rev ?? WORKSPACE;
  const commit = rev === WORKSPACE ? undefined : await resolveRevision(tracer.git, rev);
  const set = await pointerSet(repo, commit ?? WORKSPACE, tracer.git);
  const where = commit ?? null;
  const lock = await tracer.lockAt(where);
  const targets: LineageTarget[] = [];
  for (const target of paths) {
    const tracked = [...set.pointers].find(([p]) => target === p || target.startsWith(`${p}/`));
    const recordedOut = Object.entries(lock).flatMap(([name, run]) =>
      Object.entries(run.outs)
        .filter(([p]) => target === p || target.startsWith(`${p}/`))
        .map(([p, a]) => ({ name, run, path: p, artifact: a })),
    )[0];
    const recordedDep = Object.values(lock)
      .map((run) => run.deps[target])
      .find((a) => a !== undefined);
    let root: { path: string; artifact: Artifact } | undefined;
    if (tracked) root = { path: tracked[0], artifact: { kind: tracked[1].kind, oid: tracked[1].oid, size: tracked[1].size } };
    else if (recordedOut) root = { path: recordedOut.path, artifact: recordedOut.artifact };
    else if (recordedDep) root = { path: target, artifact: recordedDep };
    if (!root) {
      throw new MlxError(E.PATH_NOT_FOUND, `${target} is not tracked at ${set.label === WORKSPACE ? 'the work tree' : rev} and no run in its mlx.lock reads or writes it`, {
        hint: 'mlx ls lists tracked paths; mlx runs lists recorded runs',
        data: { path: target, rev },
      });
    }
    const node = tracer.artifact(root.path, root.artifact);
    targets.push({ path: target, node: node.id, ...(root.path !== target ? { within: root.path } : {}) });
    const producer = await tracer.producerOf(root.path, root.artifact.oid, where, undefined);
    if (producer) await tracer.expand(producer, node);
    else if (recordedOut && recordedOut.artifact.oid !== root.artifact.oid) {
      tracer.warnings.push(
        `${root.path} (${shortOid(root.artifact.oid)}) is not the output run ${recordedOut.name} recorded (${shortOid(recordedOut.artifact.oid)}): it changed after the run, and no recorded run produced this content`,
      );
    }
  }
  return { rev, ...(commit ? { commit } : {}), targets, ...tracer.graph() };
}

/** Builds one lineage graph; nodes and edges are deduplicated, each run is expanded once. */
class Tracer {
  readonly git: GitRepo;
  readonly warnings: string[] = [];
  private readonly nodes = new Map<string, LineageNode>();
  private readonly edges = new Map<string, LineageEdge>();
  private readonly expanded = new Set<string>();
  private readonly locks = new Map<string, Record<string, Run>>();
  private readonly manifests: ManifestSource;
  private catalogEntries?: CatalogEntry[];

  constructor(private readonly repo: Repo) {
    this.git = openGit(repo.root);
    this.manifests = new ManifestSource(repo);
  }

  /** The runs of the mlx.lock at `commit` (null: the work tree's); none when there is no lockfile. */
  async lockAt(commit: string | null): Promise<Record<string, Run>> {
    const key = commit ?? WORKSPACE;
    let runs = this.locks.get(key);
    if (!runs) {
      if (commit === null) runs = readRunLock(this.repo).runs;
      else {
        const bytes = await readFileAt(this.git, commit, RUN_LOCK_FILE);
        runs = bytes ? parseRunLock(bytes.toString('utf8'), `${RUN_LOCK_FILE}@${commit.slice(0, 8)}`).runs : emptyRunLock().runs;
      }
      this.locks.set(key, runs);
    }
    return runs;
  }

  artifact(path: string, a: Pick<Artifact, 'oid'> & Partial<Artifact>): ArtifactNode {
    const id = artifactId(path, a.oid);
    const known = this.nodes.get(id);
    if (known) return known as ArtifactNode;
    const node: ArtifactNode = { id, type: 'artifact', path, oid: a.oid, ...(a.kind ? { kind: a.kind } : {}), ...(a.size !== undefined ? { size: a.size } : {}), source: true };
    this.nodes.set(id, node);
    return node;
  }

  private edge(from: string, to: string, kind: LineageEdge['kind']): void {
    this.edges.set(`${from}\0${to}`, { from, to, kind });
  }

  /**
   * The run that wrote `oid`: in the lockfile at `where` first (same path, then any path, then a file
   * inside a directory output), then in the catalog of every branch. `exclude` is the run asking for
   * its own dependency: a run that copies an input is not that input's producer.
   */
  async producerOf(path: string, oid: Oid, where: string | null, exclude: Run | undefined): Promise<Producer | undefined> {
    const lock = await this.lockAt(where);
    const local = Object.entries(lock).map(([name, run]) => ({ name, run, where }));
    const found = this.match(local, path, oid, exclude);
    if (found) return found;
    if (!this.catalogEntries) {
      const cat = await catalog(this.repo);
      this.catalogEntries = cat.entries;
      this.warnings.push(...cat.warnings);
    }
    return this.match(
      this.catalogEntries.map((e) => ({ name: e.name, run: e.run, where: e.commit })),
      path,
      oid,
      exclude,
    );
  }

  private match(candidates: Located[], path: string, oid: Oid, exclude: Run | undefined): Producer | undefined {
    const usable = candidates.filter((c) => !exclude || c.run.record !== exclude.record);
    const samePath = usable.find((c) => c.run.outs[path]?.oid === oid);
    if (samePath) return { ...samePath, outPath: path };
    for (const c of usable) {
      const out = Object.entries(c.run.outs).find(([, a]) => a.oid === oid);
      if (out) return { ...c, outPath: out[0] };
    }
    // A file read from inside a directory some run wrote: the directory's manifest says whether it is
    // the same content (manifests from the cache only; lineage never fetches).
    for (const c of usable) {
      for (const [outPath, a] of Object.entries(c.run.outs)) {
        if (a.kind !== 'dir' || !path.startsWith(`${outPath}/`)) continue;
        const rel = path.slice(outPath.length + 1);
        const entry = this.manifests.entries(a.oid)?.find((e) => e.p === rel);
        if (entry && isFileEntry(entry) && entry.o === oid) return { ...c, outPath, part: rel };
      }
    }
    return undefined;
  }

  /** Adds a run (once), the edges from its deps and to its outs, and, recursively, its deps' producers. */
  async expand(p: Producer, produced: ArtifactNode): Promise<void> {
    const runId = runNodeId(p.run);
    const outArtifact = p.run.outs[p.outPath]!;
    const outNode = this.artifact(p.outPath, outArtifact);
    if (p.part !== undefined) this.edge(outNode.id, produced.id, 'part');
    else if (outNode.id !== produced.id) this.edge(outNode.id, produced.id, 'same');
    if (this.expanded.has(runId)) return;
    this.expanded.add(runId);
    const { run } = p;
    this.nodes.set(runId, {
      id: runId,
      type: 'run',
      name: p.name,
      runId: run.id,
      cmd: run.cmd,
      seed: run.seed,
      params: run.params,
      env: run.env,
      record: run.record,
      started: run.started,
      recordedIn: p.where,
    });
    for (const [path, a] of Object.entries(run.outs)) this.edge(runId, this.artifact(path, a).id, 'output');
    for (const [path, a] of Object.entries(run.deps)) {
      const dep = this.artifact(path, a);
      this.edge(dep.id, runId, 'input');
      const producer = await this.producerOf(path, a.oid, p.where, run);
      if (producer) await this.expand(producer, dep);
    }
  }

  graph(): Pick<Lineage, 'nodes' | 'edges' | 'warnings'> {
    const edges = [...this.edges.values()];
    const fed = new Set(edges.map((e) => e.to));
    const nodes = [...this.nodes.values()].map((n) => (n.type === 'artifact' ? { ...n, source: !fed.has(n.id) } : n));
    return { nodes, edges, warnings: [...new Set(this.warnings)] };
  }
}

// ---- renderings of a lineage graph ----

/** Short, stable node ids for diagram languages (`n0`, `n1`, ...), in node order. */
function shortIds(g: Pick<Lineage, 'nodes'>): Map<string, string> {
  return new Map(g.nodes.map((n, i) => [n.id, `n${i}`]));
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** `lr=0.1, epochs=3` from `{params.yaml: {lr: 0.1, epochs: 3}}`. */
export function paramSummary(params: Run['params']): string {
  return Object.values(params)
    .flatMap((kv) => Object.entries(kv).map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`))
    .join(', ');
}

/** The lines of a node's label, shared by the diagram formats. */
function labelLines(n: LineageNode): string[] {
  if (n.type === 'artifact') return [`${n.path}${n.kind === 'dir' ? '/' : ''}`, shortOid(n.oid)];
  const lines = [`run ${n.name} · ${n.runId}`, truncate(n.cmd.join(' '), 60)];
  const extra = [n.seed === null ? '' : `seed ${n.seed}`, truncate(paramSummary(n.params), 60)].filter(Boolean).join(' · ');
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
    `${a.path}${a.kind === 'dir' ? '/' : ''}  ${shortOid(a.oid)}${a.source ? '  (source: no recorded run produced it)' : ''}${note}`;

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
    const facts = [r.seed === null ? undefined : `seed ${r.seed}`, paramSummary(r.params) || undefined, `env ${shortOid(r.env)}`].filter(Boolean);
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
