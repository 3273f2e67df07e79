import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/*
 * Region and credentials chosen the way the AWS CLI chooses them, where the SDK differs:
 * - region: the remote's `region` option, AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`
 *   (AWS_CONFIG_FILE, then AWS_SHARED_CREDENTIALS_FILE), then us-east-1. The SDK reads no
 *   AWS_DEFAULT_REGION and fails without a region instead of falling back.
 * - credentials: the remote's static keys, the remote's `profile`, AWS_ACCESS_KEY_ID with
 *   AWS_SECRET_ACCESS_KEY, then the SDK's chain (AWS_PROFILE, ~/.aws, SSO, instance roles ...). The
 *   SDK alone lets AWS_PROFILE win over keys in the environment.
 */

type Env = Record<string, string | undefined>;

/** The profile whose settings apply: the remote's `profile` option, AWS_PROFILE, or `default`. */
export function profileName(option: string | undefined, env: Env = process.env): string {
  return option ?? (env.AWS_PROFILE || undefined) ?? 'default';
}

/** The region requests are signed for (see the chain above). */
export function chooseRegion(option: string | undefined, profile: string, env: Env = process.env): string {
  return option ?? (env.AWS_REGION || undefined) ?? (env.AWS_DEFAULT_REGION || undefined) ?? profileRegion(profile, env) ?? 'us-east-1';
}

/** Static keys from the environment, when both halves are set; undefined leaves the choice to the SDK's chain. */
export function environmentKeys(env: Env = process.env): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined };
}

function profileRegion(profile: string, env: Env): string | undefined {
  const home = os.homedir();
  const config = env.AWS_CONFIG_FILE || path.join(home, '.aws', 'config');
  const credentials = env.AWS_SHARED_CREDENTIALS_FILE || path.join(home, '.aws', 'credentials');
  // In the config file a profile is `[profile NAME]` (the default one `[default]`); in the credentials file `[NAME]`.
  const configSection = profile === 'default' ? 'default' : `profile ${profile}`;
  return iniValue(config, [configSection], 'region') ?? iniValue(credentials, [profile], 'region');
}

/**
 * A top-level `key = value` of the first of `sections` in an AWS ini file that has one. Indented lines
 * belong to a nested setting (`s3 =` followed by `  region = ...`) and are not the profile's own.
 */
function iniValue(file: string, sections: string[], key: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined; // no such file: nothing configured there
  }
  const found = new Map<string, string>();
  let section: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    const header = /^\s*\[\s*([^\]]+?)\s*\]/.exec(line);
    if (header) {
      section = header[1]!.replace(/\s+/g, ' ');
      continue;
    }
    if (section === undefined || /^\s/.test(line)) continue;
    const m = /^([A-Za-z0-9_.-]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m && m[1] === key && m[2] && !found.has(section)) found.set(section, m[2]);
  }
  for (const s of sections) if (found.has(s)) return found.get(s);
  return undefined;
}
