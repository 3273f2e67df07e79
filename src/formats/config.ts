import * as z from 'zod/mini';
import { badConfig } from '../util/errors.js';
import { readSimpleYaml } from './simple-yaml.js';
import { yamlLibrary } from './yaml-library.js';
import { describeZodError } from './zod-error.js';

export const LINK_TYPES = ['reflink', 'copy', 'hardlink', 'symlink'] as const;
export type LinkType = (typeof LINK_TYPES)[number];

export const CACHE_SHARING = ['group', 'false'] as const;

export const REMOTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Option names that hold secrets, normalised (see {@link isSecretOption}). */
const SECRET_NAMES = new Set(['accesskeyid', 'accesskey', 'secretaccesskey', 'secretkey', 'secret', 'sessiontoken', 'securitytoken', 'token']);

/**
 * Whether a remote option name holds a credential — refused in the committed config, allowed in
 * config.local.yaml. Any spelling counts: case, `_`/`-` and an `aws` prefix are ignored, so
 * `AWS_SECRET_ACCESS_KEY`, `secret-access-key` and `SecretAccessKey` are all the secret key.
 */
export function isSecretOption(name: string): boolean {
  const flat = name.toLowerCase().replace(/[-_]/g, '');
  return SECRET_NAMES.has(flat) || (flat.startsWith('aws') && SECRET_NAMES.has(flat.slice(3)));
}

/**
 * Where the userinfo (`user:secret@`) of a url ends: the index just after its `@`, or -1 when the url
 * has none. A secret holding a `/` ends the authority early (`s3://KEY:SE/CRET@bucket`); a colon in the
 * authority that is not a port then still gives it away.
 */
function userinfoEnd(value: string): number {
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.exec(value)?.[0];
  if (!scheme) return -1;
  const rest = value.slice(scheme.length);
  const cut = rest.search(/[/?#]/);
  const authority = cut < 0 ? rest : rest.slice(0, cut);
  const at = authority.lastIndexOf('@');
  if (at >= 0) return scheme.length + at + 1;
  const last = rest.lastIndexOf('@');
  return last >= 0 && /:(?!\d*$)/.test(authority) ? scheme.length + last + 1 : -1;
}

/** Whether a url carries credentials (`s3://KEY:SECRET@bucket`, `http://user:secret@host`). */
export function urlHasCredentials(value: string): boolean {
  return userinfoEnd(value) >= 0;
}

/** Query parameters that carry secrets in presigned or token urls. */
const SECRET_PARAM = /^(x-amz-(signature|credential|security-token)|signature|sig|token|secret|password|access_?key|key)$/i;
/** An AWS access key id, or a 40-character AWS secret access key. */
const SECRET_VALUE = /^(?:(?:AKIA|ASIA)[A-Z0-9]{16}|[A-Za-z0-9/+]{40})$/;

/** A url as it may be shown: userinfo and secret query parameters replaced by `***`. */
export function redactUrl(value: string): string {
  const end = userinfoEnd(value);
  let out = end < 0 ? value : `${/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.exec(value)![0]}***@${value.slice(end)}`;
  const q = out.indexOf('?');
  if (q >= 0) {
    const params = out.slice(q + 1).split('&').map((kv) => {
      const eq = kv.indexOf('=');
      return eq > 0 && SECRET_PARAM.test(decodeURIComponentSafe(kv.slice(0, eq))) ? `${kv.slice(0, eq)}=***` : kv;
    });
    out = `${out.slice(0, q + 1)}${params.join('&')}`;
  }
  return out;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch (err) {
    if (err instanceof URIError) return s; // not percent-encoded after all: shown as written
    throw err;
  }
}

/**
 * A remote option's value as `remote list`, `config -l` and `--json` may print it: credentials (by
 * their name, or by their look when a hand-written config put one under another name) are `***`, and
 * urls lose their userinfo.
 */
export function shownOptionValue(name: string, value: string | boolean | number): string | boolean | number {
  if (isSecretOption(name)) return '***';
  if (typeof value !== 'string') return value;
  if (SECRET_VALUE.test(value)) return '***';
  return redactUrl(value);
}

/**
 * The schemas of config files, built on first use: an absent or empty config and the default link
 * types are read without them, so a command in a repository with the config `mlx init` wrote does not
 * build them (start-up cost).
 */
function buildSchemas() {
  const linkList = z.pipe(
    z.pipe(
      z.string(),
      z.transform((s: string) => s.split(',').map((t) => t.trim()).filter(Boolean)),
    ),
    z.array(z.enum(LINK_TYPES)).check(z.minLength(1, 'name at least one link type')),
  );
  /**
   * A remote as one file writes it. `url` may be left out of config.local.yaml, whose entry is laid over
   * the committed one (credentials for a shared remote); the merged remote must have it (loadConfig).
   */
  const remote = z.catchall(z.object({ url: z.optional(z.string().check(z.minLength(1))) }), z.union([z.string(), z.boolean(), z.number()]));
  /** `.mlx/config.yaml` (committed) and `.mlx/config.local.yaml` (git-ignored), merged in that order. */
  const config = z.strictObject({
    cache: z.optional(
      z.strictObject({
        /** A cache shared by several repositories; relative paths are relative to `.mlx/`. */
        dir: z.optional(z.string().check(z.minLength(1))),
        /** Ordered link types to try at checkout, e.g. `reflink,copy` or `hardlink,copy`. */
        type: z.optional(z.string()),
        /** Re-hash every cache object checkout writes instead of trusting its stat check (default false). */
        verify: z.optional(z.boolean()),
        /** `group`: a cache several Unix users of one group write to (see spec/object-store.md). */
        shared: z.optional(z.enum(CACHE_SHARING)),
      }),
    ),
    core: z.optional(
      z.strictObject({
        remote: z.optional(z.string()),
      }),
    ),
    /** Named remotes: a url plus backend options (endpoint, region, profile, ...; see spec/remote.md). */
    remotes: z.optional(z.record(z.string().check(z.regex(REMOTE_NAME, 'remote names use letters, digits, . _ -')), remote)),
  });
  return { linkList, remote, config };
}

let schemas: ReturnType<typeof buildSchemas> | undefined;
function configSchemas(): ReturnType<typeof buildSchemas> {
  schemas ??= buildSchemas();
  return schemas;
}

export type RemoteConfig = z.infer<ReturnType<typeof buildSchemas>['remote']>;
export type Config = z.infer<ReturnType<typeof buildSchemas>['config']>;

/** Settable keys with their value parsers, for `mlx config KEY VALUE`. */
export const CONFIG_KEYS: Record<string, (v: string) => unknown> = {
  'cache.dir': (v) => v,
  'cache.type': (v) => {
    parseLinkTypes(v);
    return v;
  },
  'cache.verify': (v) => parseBool(v),
  'cache.shared': (v) => {
    if (!(CACHE_SHARING as readonly string[]).includes(v)) throw badConfig(`cache.shared ${JSON.stringify(v)} is invalid (choose from ${CACHE_SHARING.join(', ')})`);
    return v;
  },
  'core.remote': (v) => v,
};

export function parseLinkTypes(value: string | undefined): LinkType[] {
  // The common case without the schema: names of link types only (the schema says what is wrong otherwise).
  const names = (value ?? 'reflink,copy').split(',').map((t) => t.trim()).filter(Boolean);
  if (names.length > 0 && names.every((t) => (LINK_TYPES as readonly string[]).includes(t))) return names as LinkType[];
  const parsed = configSchemas().linkList.safeParse(value ?? 'reflink,copy');
  if (!parsed.success) {
    throw badConfig(`cache.type ${JSON.stringify(value)} is invalid: ${describeZodError(parsed.error)} (choose from ${LINK_TYPES.join(', ')})`);
  }
  return parsed.data;
}

function parseBool(v: string): boolean {
  if (['true', 'yes', '1', 'on'].includes(v)) return true;
  if (['false', 'no', '0', 'off'].includes(v)) return false;
  throw badConfig(`expected true or false, got ${JSON.stringify(v)}`);
}

export function parseConfig(text: string, source: string): Config {
  let raw: unknown;
  try {
    // A config as mlx writes it (or an absent one) is read without the yaml library.
    raw = (readSimpleYaml(text) ?? { value: yamlLibrary().parse(text) }).value ?? {};
  } catch (err) {
    throw badConfig(`config ${source} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  // An empty config is valid, and reads as `{}`, without building the schema.
  if (isEmptyObject(raw)) return {};
  const parsed = configBySchema(raw);
  if (!parsed.success) throw badConfig(`config ${source} is invalid: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

/** The schema's reading of a config file's YAML value. */
export function configBySchema(raw: unknown) {
  return configSchemas().config.safeParse(raw);
}

function isEmptyObject(raw: unknown): boolean {
  return raw !== null && typeof raw === 'object' && Object.getPrototypeOf(raw) === Object.prototype && Object.keys(raw).length === 0;
}

export function serializeConfig(config: Config): string {
  return yamlLibrary().stringify(config);
}
