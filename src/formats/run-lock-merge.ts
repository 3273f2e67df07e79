import { canonicalJson, parseRunLock, RUN_LOCK_VERSION, serializeRunLock, type Run, type RunLock } from './run-lock.js';

/** A run both sides changed differently (or one changed and the other removed): absent side is undefined. */
export interface RunConflict {
  name: string;
  ours?: Run;
  theirs?: Run;
}

export interface RunsMerge {
  /** Every run that merged cleanly; the conflicting ones are not in it. */
  lock: RunLock;
  conflicts: RunConflict[];
}

/**
 * Three-way merge of two run lockfiles by run name: a run only one side added, changed or removed is
 * taken from that side; the same on both sides is kept; changed differently on both is a conflict
 * for that run alone. Runs are compared by value, not by their YAML bytes.
 */
export function mergeRuns(base: RunLock, ours: RunLock, theirs: RunLock): RunsMerge {
  const same = (a: Run | undefined, b: Run | undefined) => (a === undefined || b === undefined ? a === b : canonicalJson(a) === canonicalJson(b));
  const runs: Record<string, Run> = {};
  const conflicts: RunConflict[] = [];
  const names = [...new Set([...Object.keys(base.runs), ...Object.keys(ours.runs), ...Object.keys(theirs.runs)])].sort();
  for (const name of names) {
    const [b, o, t] = [base.runs[name], ours.runs[name], theirs.runs[name]];
    let pick: Run | undefined;
    if (same(o, t)) pick = o;
    else if (same(b, o)) pick = t;
    else if (same(b, t)) pick = o;
    else {
      conflicts.push({ name, ours: o, theirs: t });
      continue;
    }
    if (pick) runs[name] = pick;
  }
  return { lock: { version: RUN_LOCK_VERSION, runs }, conflicts };
}

const OURS = (name: string) => `<<<<<<< ours (run ${name})`;
const SPLIT = '=======';
const THEIRS = (name: string) => `>>>>>>> theirs (run ${name})`;

/**
 * The lockfile text of a merge with conflicts: every cleanly merged run as `serializeRunLock` writes
 * it, and each conflicting run in its sorted place with git-style markers around its two versions only,
 * so nothing of either side is lost and `resolveRunConflicts` can pick a side per run.
 */
export function serializeConflictedRunLock(merge: RunsMerge): string {
  // Serialise with each conflicting run present (its ours version, else theirs) to find where its block goes.
  const all: RunLock = { version: merge.lock.version, runs: { ...merge.lock.runs } };
  for (const c of merge.conflicts) all.runs[c.name] = (c.ours ?? c.theirs)!;
  let text = serializeRunLock(all);
  for (const c of merge.conflicts) {
    const block = (run: Run | undefined) => (run ? runBlock(serializeRunLock({ version: merge.lock.version, runs: { [c.name]: run } }), c.name).text : '');
    const at = runBlock(text, c.name);
    text = `${text.slice(0, at.start)}${OURS(c.name)}\n${block(c.ours)}${SPLIT}\n${block(c.theirs)}${THEIRS(c.name)}\n${text.slice(at.end)}`;
  }
  return text;
}

/** Where the block of run `name` lies in serialised lockfile text: from its `  name:` line to the next run's. */
function runBlock(text: string, name: string): { start: number; end: number; text: string } {
  const lines = text.split(/(?<=\n)/);
  let offset = 0;
  let start = -1;
  for (const line of lines) {
    const isRunKey = /^ {2}\S/.test(line);
    if (start === -1 && isRunKey && keyOf(line) === name) start = offset;
    else if (start !== -1 && (isRunKey || /^\S/.test(line))) return { start, end: offset, text: text.slice(start, offset) };
    offset += line.length;
  }
  if (start === -1) throw new Error(`run ${name} is not in the serialised lockfile`);
  return { start, end: offset, text: text.slice(start) };
}

/** The run name of a `  name:` line (YAML may quote a name such as `1.0`). */
function keyOf(line: string): string {
  const key = line.trim().replace(/:$/, '');
  return /^["']/.test(key) ? (JSON.parse(key.replace(/^'(.*)'$/, (_, s: string) => JSON.stringify(s.replace(/''/g, "'")))) as string) : key;
}

/** The runs marked as conflicting in a lockfile `serializeConflictedRunLock` wrote, in file order. */
export function conflictedRunNames(text: string): string[] {
  return [...text.matchAll(/^<<<<<<< ours \(run (.+)\)$/gm)].map((m) => m[1]!);
}

/**
 * Resolves the marked runs `names` (all of them when empty) by keeping one side's version; a side that
 * had removed the run removes it. Returns the new text (parsed and serialised again once no marker is
 * left) and the runs still in conflict. Names that are not in conflict are returned as `unknown`.
 */
export function resolveRunConflicts(text: string, side: 'ours' | 'theirs', names: string[], source: string): { text: string; resolved: string[]; remaining: string[]; unknown: string[] } {
  const marked = conflictedRunNames(text);
  const wanted = names.length === 0 ? marked : names;
  const unknown = wanted.filter((n) => !marked.includes(n));
  const resolved = wanted.filter((n) => marked.includes(n));
  let out = text;
  for (const name of resolved) {
    const lines = out.split(/(?<=\n)/);
    const start = lines.findIndex((l) => l.replace(/\n$/, '') === OURS(name));
    const split = lines.findIndex((l, i) => i > start && l.replace(/\n$/, '') === SPLIT);
    const end = lines.findIndex((l, i) => i > split && l.replace(/\n$/, '') === THEIRS(name));
    if (start === -1 || split === -1 || end === -1) continue;
    const kept = side === 'ours' ? lines.slice(start + 1, split) : lines.slice(split + 1, end);
    out = [...lines.slice(0, start), ...kept, ...lines.slice(end + 1)].join('');
  }
  const remaining = conflictedRunNames(out);
  // With no markers left the text is a lockfile again: parse it (so a broken one is caught) and normalise.
  if (remaining.length === 0 && !/^<<<<<<< /m.test(out)) out = serializeRunLock(parseRunLock(out, source));
  return { text: out, resolved, remaining, unknown };
}
