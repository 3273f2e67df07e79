import { safeParse } from 'zod/mini';
import type { $ZodError, $ZodType } from 'zod/v4/core';

/** Turns a zod failure into one readable clause: `oid: expected b3:<64 hex>`. */
export function describeZodError(err: $ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid';
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  return `${where}${issue.message}`;
}

/**
 * Parses JSON text (or UTF-8 bytes) and checks it against `schema`; any failure becomes the error
 * `fail` builds from one readable clause. The shared first step of every JSON format's parser.
 */
export function parseJsonWith<T>(schema: $ZodType<T>, text: string | Uint8Array, fail: (why: string) => Error): T {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof text === 'string' ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('utf8'));
  } catch {
    // JSON.parse fails only on bad JSON
    throw fail('not valid JSON');
  }
  const parsed = safeParse(schema, raw); // schemas of both zod APIs (classic and mini) share this core
  if (!parsed.success) throw fail(describeZodError(parsed.error));
  return parsed.data;
}
