import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Drives failpoints (src/util/failpoint.ts) of mlx processes started by a test: `env(...)` is the
 * environment for the process, `reached(name)` waits until it paused there, `release(name)` lets it go on.
 */
export class Failpoints {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-fp-'));

  env(spec: Record<string, 'pause' | 'exit' | 'error'>): Record<string, string> {
    return {
      MLX_FAILPOINTS: Object.entries(spec).map(([k, v]) => `${k}=${v}`).join(','),
      MLX_FAILPOINT_DIR: this.dir,
    };
  }

  /** Resolves once a process paused at `name`; rejects after `timeoutMs` (a hang, not a timing check). */
  async reached(name: string, timeoutMs = 30_000): Promise<void> {
    const file = path.join(this.dir, `${name}.reached`);
    const start = Date.now();
    while (!fs.existsSync(file)) {
      if (Date.now() - start > timeoutMs) throw new Error(`failpoint ${name} was never reached`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  isReached(name: string): boolean {
    return fs.existsSync(path.join(this.dir, `${name}.reached`));
  }

  release(name: string): void {
    fs.writeFileSync(path.join(this.dir, `${name}.go`), '');
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
