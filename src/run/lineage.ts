import { isFileEntry } from '../formats/manifest.js';
import type { PointerSource } from '../formats/pointer.js';
import type { Artifact, Run } from '../formats/run-lock.js';
import { shortOid, type Oid } from '../hash/oid.js';
import { openGit, resolveRevision, type GitRepo } from '../git/git-repo.js';
import { pathNotFound } from '../util/errors.js';
import type { Repo } from '../workspace/repo.js';
import { ManifestSource, pointerSet, WORKSPACE } from '../repository/revisions.js';
import { catalog, type CatalogEntry } from './catalog.js';
import { readRunLock, readRunLockAt } from './lockfile.js';

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
  /**
   * Imported from another repository: its commit, and the run of that commit's mlx.lock that wrote it
   * when the source recorded one. The trail continues there, not in this repository's runs.
   */
  imported?: PointerSource;
}

/** A recorded run, with what defines it. */
export interface RunNode {
  id: string;
  type: 'run';
  name: string;
  runId: string;
  cmd: string[];
  seed: number | null;
  /** Named seeds, when the run has any. */
  seeds?: Record<string, number>;
  params: Run['params'];
  /** The -S overrides the run applied, when any. */
  overrides?: string[];
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
  for (const p of set.pointers.values()) if (p.source) tracer.imports.set(p.oid, p.source);
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
      throw pathNotFound(`${target} is not tracked at ${set.label === WORKSPACE ? 'the work tree' : rev} and no run in its mlx.lock reads or writes it`, {
        hint: 'mlx ls lists tracked paths; mlx runs lists recorded runs',
        path: target,
        rev,
      });
    }
    const node = tracer.artifact(root.path, root.artifact);
    targets.push({ path: target, node: node.id, ...(root.path !== target ? { within: root.path } : {}) });
    const producer = node.imported ? undefined : await tracer.producerOf(root.path, root.artifact.oid, where, undefined);
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
  /** Imported content (oid -> where it came from), as the pointers traced from record it. */
  readonly imports = new Map<Oid, PointerSource>();
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
      runs = (commit === null ? readRunLock(this.repo) : await readRunLockAt(this.git, commit)).runs;
      this.locks.set(key, runs);
    }
    return runs;
  }

  artifact(path: string, a: Pick<Artifact, 'oid'> & Partial<Artifact>): ArtifactNode {
    const id = artifactId(path, a.oid);
    const known = this.nodes.get(id);
    if (known) return known as ArtifactNode;
    const imported = this.imports.get(a.oid);
    const node: ArtifactNode = { id, type: 'artifact', path, oid: a.oid, ...(a.kind ? { kind: a.kind } : {}), ...(a.size !== undefined ? { size: a.size } : {}), source: true, ...(imported ? { imported } : {}) };
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
      ...(run.seeds ? { seeds: run.seeds } : {}),
      params: run.params,
      ...(run.overrides ? { overrides: run.overrides } : {}),
      env: run.env,
      record: run.record,
      started: run.started,
      recordedIn: p.where,
    });
    for (const [path, a] of Object.entries(run.outs)) this.edge(runId, this.artifact(path, a).id, 'output');
    for (const [path, a] of Object.entries(run.deps)) {
      const dep = this.artifact(path, a);
      this.edge(dep.id, runId, 'input');
      if (dep.imported) continue; // produced in its source repository
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
