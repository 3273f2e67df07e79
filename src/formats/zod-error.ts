import type { z } from 'zod';

/** Turns a zod failure into one readable clause: `oid: expected b3:<64 hex>`. */
export function describeZodError(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid';
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  return `${where}${issue.message}`;
}
