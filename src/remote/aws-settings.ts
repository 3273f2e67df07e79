import os from 'node:os';
import path from 'node:path';
import { commonJsExports } from '../util/modules.js';

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
export async function chooseRegion(option: string | undefined, profile: string, env: Env = process.env): Promise<string> {
  return option ?? (env.AWS_REGION || undefined) ?? (env.AWS_DEFAULT_REGION || undefined) ?? (await profileRegion(profile, env)) ?? 'us-east-1';
}

/** Static keys from the environment, when both halves are set; undefined leaves the choice to the SDK's chain. */
export function environmentKeys(env: Env = process.env): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined };
}

/**
 * The profile's `region`, read by the AWS SDK's own loader of the shared config and credentials files
 * (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and ~/.aws/credentials): the config
 * file's entry wins, as in the AWS CLI. Loaded on first use, like the rest of the SDK.
 */
async function profileRegion(profile: string, env: Env): Promise<string | undefined> {
  const { loadSharedConfigFiles } = commonJsExports(await import('@smithy/core/config'));
  const home = os.homedir();
  const { configFile, credentialsFile } = await loadSharedConfigFiles({
    configFilepath: env.AWS_CONFIG_FILE || path.join(home, '.aws', 'config'),
    filepath: env.AWS_SHARED_CREDENTIALS_FILE || path.join(home, '.aws', 'credentials'),
    ignoreCache: true,
  });
  return configFile[profile]?.region || credentialsFile[profile]?.region || undefined;
}
