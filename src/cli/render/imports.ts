import type { PointerSource } from '../../formats/pointer.js';

/**
 * `imported from <repo>@<commit>`, then the path there (when it differs from `here`) and the revision
 * asked for: `imported from ../lab-data@9ccd2704b45f (data/clean, rev v1)`.
 */
export function importedFrom(source: PointerSource, here?: string): string {
  return `imported from ${sourceLabel(source, here)}`;
}

/** `<repo>@<commit>`, with the source path and the revision asked for after it. */
export function sourceLabel(source: PointerSource, here?: string): string {
  const details = [here !== undefined && here === source.path ? undefined : source.path, source.rev === undefined ? undefined : `rev ${source.rev}`].filter(Boolean);
  return `${source.repo}@${source.commit.slice(0, 12)}${details.length ? ` (${details.join(', ')})` : ''}`;
}
