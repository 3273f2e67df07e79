import type { PointerSource } from '../../formats/pointer.js';

/** `imported from <repo>@<commit>`, with the path there when it differs from here and the revision asked for. */
export function importedFrom(source: PointerSource, here?: string): string {
  const at = `${source.repo}@${source.commit.slice(0, 12)}`;
  const details = [here !== undefined && here === source.path ? undefined : source.path, source.rev === undefined ? undefined : `rev ${source.rev}`].filter(Boolean);
  return `imported from ${at}${details.length ? ` (${details.join(', ')})` : ''}`;
}
