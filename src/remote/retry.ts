/*
 * How remotes retry a transient failure: a bounded number of attempts with exponential backoff and
 * full jitter. The S3 client's own retries (before a response arrives) and mlx's retries of what the
 * client cannot retry (a response body cut off mid-way, a streamed upload) use the same schedule.
 */

/** Default base of the backoff, in ms: waits are drawn from [0, base·2^n), n the retry, capped. */
export const DEFAULT_RETRY_BASE_MS = 50;
/** No single wait is longer than this. */
const MAX_DELAY_MS = 20_000;

/**
 * The backoff base: the remote's `retryBaseMs` option, else MLX_RETRY_BASE_MS (tests set it small so
 * that faults that never stop fail fast), else the default.
 */
export function retryBaseMs(option: number | undefined): number {
  if (option !== undefined) return option;
  const env = Number(process.env.MLX_RETRY_BASE_MS);
  return process.env.MLX_RETRY_BASE_MS !== undefined && Number.isFinite(env) && env >= 0 ? env : DEFAULT_RETRY_BASE_MS;
}

/** The wait before retry number `retry` (1 for the first retry). */
export function backoffMs(retry: number, baseMs: number): number {
  return Math.random() * Math.min(MAX_DELAY_MS, baseMs * 2 ** retry);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The parts of the SDK's RetryStrategyV2 / RetryToken / RetryErrorInfo (@smithy/types) used here. */
interface RetryToken {
  getRetryCount(): number;
  getRetryDelay(): number;
}
interface RetryErrorInfo {
  errorType: 'TRANSIENT' | 'THROTTLING' | 'SERVER_ERROR' | 'CLIENT_ERROR';
}

/**
 * The S3 client's retry strategy: the SDK's classification of errors (throttling and transient ones:
 * 500/502/503/504, SlowDown, resets, timeouts) with a fixed number of attempts per request. Unlike the
 * SDK's standard strategy it keeps no retry budget shared across requests, which a long transfer over
 * a flaky link would use up and then fail on the next small fault.
 */
export class BoundedRetryStrategy {
  readonly mode = 'standard';

  constructor(
    private readonly maxAttempts: number,
    private readonly baseMs: number,
  ) {}

  async acquireInitialRetryToken(_scope: string): Promise<RetryToken> {
    return token(0, 0);
  }

  async refreshRetryTokenForRetry(previous: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const retry = previous.getRetryCount() + 1;
    if (retry >= this.maxAttempts || (info.errorType !== 'TRANSIENT' && info.errorType !== 'THROTTLING')) {
      throw new Error('no retry left');
    }
    return token(retry, backoffMs(retry, this.baseMs));
  }

  recordSuccess(_token: RetryToken): void {}
}

function token(count: number, delay: number): RetryToken {
  return { getRetryCount: () => count, getRetryDelay: () => delay };
}
