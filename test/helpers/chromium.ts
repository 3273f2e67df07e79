import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';

/**
 * A headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON
 * messages ended by NUL, commands on fd 3, replies and events on fd 4), so a test can load a local
 * page, ask the DOM what it rendered and take a screenshot without any npm dependency.
 */

/** The system's Chromium: $CHROMIUM when set (and only it), else the first of the usual names on PATH. */
export function findChromium(): string | undefined {
  const names = process.env.CHROMIUM ? [process.env.CHROMIUM] : ['chromium', 'chromium-browser', 'google-chrome'];
  return names.find((n) => spawnSync(n, ['--version'], { encoding: 'utf8' }).status === 0);
}

type Reply = { id?: number; method?: string; params?: any; result?: any; error?: { message: string }; sessionId?: string };

export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: any) => void; reject: (e: Error) => void }>();
  private readonly waiters: Array<{ method: string; resolve: () => void }> = [];
  private buffer = '';
  private session?: string;

  private constructor(private readonly child: ChildProcess, private readonly profile: string) {
    const input = child.stdio[4] as Readable;
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let end = this.buffer.indexOf('\0'); end >= 0; end = this.buffer.indexOf('\0')) {
        this.receive(JSON.parse(this.buffer.slice(0, end)) as Reply);
        this.buffer = this.buffer.slice(end + 1);
      }
    });
    child.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`chromium exited (${code})`));
      this.pending.clear();
    });
  }

  /** Starts Chromium with a page of `width`×`height` CSS pixels, attached and ready to navigate. */
  static async launch(binary: string, width: number, height: number): Promise<Browser> {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-chromium-'));
    const args = ['--headless', '--remote-debugging-pipe', '--no-sandbox', '--disable-gpu', '--no-first-run', '--hide-scrollbars', `--user-data-dir=${profile}`, 'about:blank'];
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
    const b = new Browser(child, profile);
    const { targetId } = await b.send('Target.createTarget', { url: 'about:blank' });
    b.session = (await b.send('Target.attachToTarget', { targetId, flatten: true })).sessionId;
    await b.send('Page.enable');
    await b.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
    return b;
  }

  private receive(msg: Reply): void {
    if (msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(msg.error.message));
      else p?.resolve(msg.result);
      return;
    }
    for (const [i, w] of this.waiters.entries()) {
      if (w.method === msg.method) {
        this.waiters.splice(i, 1);
        w.resolve();
        break;
      }
    }
  }

  send(method: string, params: object = {}): Promise<any> {
    const id = this.nextId++;
    const out = this.child.stdio[3] as Writable;
    out.write(`${JSON.stringify({ id, method, params, ...(this.session && !method.startsWith('Target.') ? { sessionId: this.session } : {}) })}\0`);
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  /** Opens `url` and waits for its load event. */
  async open(url: string): Promise<void> {
    const loaded = new Promise<void>((resolve) => this.waiters.push({ method: 'Page.loadEventFired', resolve }));
    await this.send('Page.navigate', { url });
    await loaded;
  }

  /** The value of a JavaScript expression evaluated in the page (the page itself needs no script for this). */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true });
    if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** A PNG of the whole page, beyond the viewport. */
  async screenshot(): Promise<Buffer> {
    const r = await this.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
    return Buffer.from(r.data as string, 'base64');
  }

  async close(): Promise<void> {
    const exited = this.child.exitCode !== null ? Promise.resolve() : new Promise((resolve) => this.child.once('exit', resolve));
    await this.send('Browser.close').catch(() => undefined); // the browser may exit before it replies
    await exited;
    fs.rmSync(this.profile, { recursive: true, force: true });
  }
}
