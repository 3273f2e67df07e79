/*
 * A strict reader of the small part of YAML that mlx itself writes in pointer and config files: nested
 * block maps (two spaces a level) of letter-first keys and scalar values on one line each, blank
 * lines and whole-line comments. It exists so that reading those files does not load the yaml library
 * (start-up cost of every command). It answers only where its reading is certainly the one YAML 1.2
 * (the yaml library's core schema) gives; for anything else it answers undefined and the caller parses
 * the text with the library, so hand-edited files read exactly as before.
 */

/** What the yaml library's `parse` returns for `text`, or undefined when `text` is outside this subset. */
export function readSimpleYaml(text: string): { value: unknown } | undefined {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const content: { indent: number; line: string }[] = [];
  for (const line of lines) {
    if (BLANK_OR_COMMENT.test(line)) continue;
    const indent = line.search(/[^ ]/);
    content.push({ indent, line: line.slice(indent) });
  }
  if (content.length === 0) return { value: null };
  if (content.length === 1 && content[0]!.indent === 0 && content[0]!.line === '{}') return { value: {} };

  const root: Record<string, unknown> = {};
  // The maps still open, innermost last; stack[i] takes keys indented by 2 * i.
  const stack: Record<string, unknown>[] = [root];
  // A key whose value is on the lines below: the next line must open its map one level deeper.
  let pending: { map: Record<string, unknown>; key: string } | undefined;
  for (const { indent, line } of content) {
    if (indent % 2 !== 0) return undefined;
    const level = indent / 2;
    if (pending) {
      if (level !== stack.length) return undefined; // `key:` with nothing under it is null in YAML: left to the library
      const map: Record<string, unknown> = {};
      pending.map[pending.key] = map;
      stack.push(map);
      pending = undefined;
    } else if (level >= stack.length) {
      return undefined;
    }
    stack.length = level + 1;
    const entry = ENTRY.exec(line);
    if (!entry) return undefined;
    const [, key, rest] = entry as unknown as [string, string, string | undefined];
    const map = stack[level]!;
    if (NOT_A_STRING.test(key) || Object.prototype.hasOwnProperty.call(map, key)) return undefined; // duplicate keys are an error in YAML
    if (rest === undefined) {
      pending = { map, key };
      continue;
    }
    const value = scalar(rest);
    if (value === undefined) return undefined;
    map[key] = value;
  }
  return pending ? undefined : { value: root };
}

/** A blank line or a comment on a line of its own. */
const BLANK_OR_COMMENT = /^ *(#.*)?$/;
/** `key: value` or `key:`; keys start with a letter, so none reads as a number. Only ASCII is taken. */
const ENTRY = /^([A-Za-z][A-Za-z0-9_.-]*):(?: ([\x20-\x7e]+))?$/;
/** Plain words YAML reads as null, a boolean or a float (`.5`, `.inf`, `.nan`), not as a string. */
const NOT_A_STRING = /^(?:null|Null|NULL|true|True|TRUE|false|False|FALSE|\.[0-9].*|\.(?:inf|Inf|INF|nan|NaN|NAN))$/;
/** A plain string: starts with a letter, `_`, `/` or `.`, no comment, no `: `, no space at the end. */
const PLAIN_STRING = /^[A-Za-z_/.](?:[A-Za-z0-9_./:@+=,~() -]*[A-Za-z0-9_./@+=,~()-])?$/;
/** A non-negative integer as YAML writes it (no sign, no leading zero). */
const INTEGER = /^(?:0|[1-9][0-9]{0,15})$/;
/** Quoted strings without escapes or the quote inside. */
const DOUBLE_QUOTED = /^"([\x20-\x21\x23-\x5b\x5d-\x7e]*)"$/;
const SINGLE_QUOTED = /^'([\x20-\x26\x28-\x7e]*)'$/;

/** The value of one scalar (or `{}`) after `key: `, or undefined when this reader does not take it. */
function scalar(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === '{}') return {};
  if (INTEGER.test(text)) return Number.isSafeInteger(Number(text)) ? Number(text) : undefined;
  if (PLAIN_STRING.test(text)) return NOT_A_STRING.test(text) || text.includes(': ') ? undefined : text;
  const quoted = DOUBLE_QUOTED.exec(text) ?? SINGLE_QUOTED.exec(text);
  return quoted ? quoted[1] : undefined;
}
