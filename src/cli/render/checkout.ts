import type { CheckoutResult } from '../../commands/checkout.js';

/** One line per tracked path that checkout changed. */
export function updatedLines(res: CheckoutResult): string[] {
  return res.paths.filter((p) => p.written + p.removed > 0).map((p) => `updated  ${p.path}  (${p.written} written, ${p.removed} removed, ${p.unchanged} unchanged)`);
}
