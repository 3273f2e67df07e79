/*
 * Per-step metric logs as training loops write them: JSON lines (`{"step": 3, "loss": 0.4}` a line),
 * CSV or TSV with a header row (DVCLive writes `timestamp<TAB>step<TAB>loss`). The format is told by
 * the file's extension, as DVC's plots tell theirs. The bytes are stored as they are; this parser is
 * the one reading of them, at record time (to summarise) and at read time (to draw).
 */

export const HISTORY_FORMATS = ['jsonl', 'csv', 'tsv'] as const;
export type HistoryFormat = (typeof HISTORY_FORMATS)[number];

/** One metric over time: `[step, value]` in the order the file lists them. */
export type MetricSeries = Array<[step: number, value: number]>;

export interface ParsedHistory {
  /** The column the steps were read from; null when the file has none (the row number counts from 0). */
  step: string | null;
  /** Rows (or lines) read: the points in time the file logged. */
  steps: number;
  /** Metric → its series, in the order the metrics first appear. */
  metrics: Record<string, MetricSeries>;
}

/** The history format a path's extension names (`.jsonl`/`.ndjson`, `.csv`, `.tsv`), or undefined for any other file. */
export function historyFormatOf(file: string): HistoryFormat | undefined {
  const ext = /\.([A-Za-z]+)$/.exec(file)?.[1]?.toLowerCase();
  if (ext === 'jsonl' || ext === 'ndjson') return 'jsonl';
  return ext === 'csv' || ext === 'tsv' ? ext : undefined;
}

/** Column names taken for the step, in order of preference (compared without case). */
const STEP_NAMES = ['step', 'global_step', 'iteration', 'iter', 'epoch'];
/** Counters and clocks: logged beside metrics but not metrics themselves. */
const NOT_METRICS = new Set([...STEP_NAMES, 'timestamp', 'time', 'wall_time', 'walltime', '_timestamp', '_runtime', '_step']);

/**
 * Reads a history. A cell that is empty or not a finite number (`nan`, `inf`, text) is no point: sparse
 * logs (validation every N steps) and diverged runs read as gaps. A row whose step is missing or not a
 * number, a JSON line that is not an object, or a CSV/TSV without a header row is refused through `fail`.
 */
export function parseMetricHistory(text: string, format: HistoryFormat, fail: (why: string) => Error): ParsedHistory {
  if (text.startsWith('\uFEFF')) text = text.slice(1); // the byte-order mark spreadsheets write before a CSV header
  return format === 'jsonl' ? collect(jsonLines(text, fail), fail) : parseDelimited(text, format === 'csv' ? ',' : '\t', fail);
}

/** The column taken for the step, or null when none is named like one. */
function stepColumn(names: Iterable<string>): string | null {
  const all = [...names];
  return STEP_NAMES.map((s) => all.find((n) => n.toLowerCase() === s)).find((n) => n !== undefined) ?? null;
}

function isMetricName(name: string, step: string | null): boolean {
  return name !== step && !NOT_METRICS.has(name.toLowerCase());
}

/** One logged row: its line number (from 1) and its fields, flattened to dotted names. */
interface Row {
  line: number;
  fields: Map<string, unknown>;
}

/** The rows of a log and its column names (a CSV's header; every name a JSON line used). */
interface Table {
  names: Set<string>;
  rows: Row[];
}

function collect({ names, rows }: Table, fail: (why: string) => Error): ParsedHistory {
  const step = stepColumn(names);
  const metrics: Record<string, MetricSeries> = {};
  rows.forEach((r, i) => {
    let at = i;
    if (step !== null) {
      const s = numberOf(r.fields.get(step));
      if (s === undefined) throw fail(`line ${r.line}: the step (${step}) is ${describe(r.fields.get(step))}, not a number`);
      at = s;
    }
    for (const [name, raw] of r.fields) {
      if (!isMetricName(name, step)) continue;
      const v = numberOf(raw);
      if (v !== undefined) (metrics[name] ??= []).push([at, v]);
    }
  });
  return { step, steps: rows.length, metrics };
}

function describe(v: unknown): string {
  return v === undefined || v === '' ? 'missing' : JSON.stringify(v);
}

/** A finite number from a JSON number or a numeric cell; undefined for anything else. */
function numberOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const n = Number(v);
  // Number('') and Number('  ') are 0: an empty cell is no point.
  if (!Number.isFinite(n) || (n === 0 && v.trim() === '')) return undefined;
  return n;
}

function jsonLines(text: string, fail: (why: string) => Error): Table {
  const rows: Row[] = [];
  const names = new Set<string>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      // JSON.parse fails only on bad JSON
      throw fail(`line ${i + 1} is not valid JSON`);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw fail(`line ${i + 1} is not a JSON object`);
    const fields = new Map<string, unknown>();
    flattenInto(fields, '', obj as Record<string, unknown>);
    for (const k of fields.keys()) names.add(k);
    rows.push({ line: i + 1, fields });
  });
  return { names, rows };
}

/** `{"train": {"loss": 1}}` → `train.loss`; lists and other values are kept as they are (and skipped as no number). */
function flattenInto(into: Map<string, unknown>, prefix: string, obj: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(obj)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flattenInto(into, `${prefix}${k}.`, v as Record<string, unknown>);
    else into.set(prefix + k, v);
  }
}

/**
 * CSV/TSV straight into series, column by column: logs run to millions of rows, so no object is made
 * per row.
 */
function parseDelimited(text: string, sep: string, fail: (why: string) => Error): ParsedHistory {
  const lines = text.split('\n');
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first < 0) return { step: null, steps: 0, metrics: {} };
  const header = splitRow(lines[first]!.replace(/\r$/, ''), sep).map((h) => h.trim());
  if (header.every((h) => numberOf(h) !== undefined)) throw fail(`line ${first + 1}: expected a header row naming the columns (such as step,loss), found numbers`);
  const step = stepColumn(header);
  const stepAt = step === null ? -1 : header.indexOf(step);
  const columns = header.flatMap((name, c) => (isMetricName(name, step) && header.indexOf(name) === c ? [{ name, c, series: [] as MetricSeries }] : []));
  let rows = 0;
  for (let i = first + 1; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    const cells = splitRow(line, sep);
    let at = rows;
    if (stepAt >= 0) {
      const s = numberOf(cells[stepAt]);
      if (s === undefined) throw fail(`line ${i + 1}: the step (${step}) is ${describe(cells[stepAt]?.trim())}, not a number`);
      at = s;
    }
    for (const col of columns) {
      const v = numberOf(cells[col.c]);
      if (v !== undefined) col.series.push([at, v]);
    }
    rows++;
  }
  const metrics: Record<string, MetricSeries> = {};
  for (const col of columns) if (col.series.length) metrics[col.name] = col.series;
  return { step, steps: rows, metrics };
}

/** One CSV/TSV line's cells; a cell in double quotes may hold the separator (`""` is a quote). */
function splitRow(line: string, sep: string): string[] {
  if (!line.includes('"')) return line.split(sep); // Number() ignores the spaces around a number
  const cells: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === sep) cells.push(cur.trim()), (cur = '');
    else cur += ch;
  }
  cells.push(cur.trim());
  return cells;
}
