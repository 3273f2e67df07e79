import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/*
 * A fault-injecting HTTP proxy on 127.0.0.1 in front of an S3 server (s3rver): each request either
 * passes through untouched or meets one fault drawn from a seeded, deterministic schedule.
 */

export type Fault =
  /** the connection is reset while the client is still sending the request body (uploads) */
  | 'reset-upload'
  /** headers and part of the response body arrive, then the connection is reset (downloads) */
  | 'reset-download'
  /** headers and part of the response body arrive, then the connection is closed cleanly */
  | 'truncate-download'
  /** 500 InternalError */
  | 'error-500'
  /** 503 SlowDown */
  | 'slowdown-503'
  /** the request is passed on late */
  | 'delay';

export interface FaultProxyOptions {
  /** The server behind the proxy, `http://127.0.0.1:port`. */
  upstream: string;
  /** Share of requests that meet a fault (0..1). */
  rate: number;
  /** Seed of the schedule: the same seed draws the same faults for the same request sequence. */
  seed: number;
  /** Every request meets a fault (never a delay): faults that never stop. */
  always?: boolean;
  /** With `always`: the first this many requests pass, every later one meets a fault. */
  startAfter?: number;
}

export interface FaultProxy {
  endpoint: string;
  /** How many of each fault were injected, and how many requests passed untouched. */
  injected: Record<Fault | 'none', number>;
  /** Changes the schedule for the requests to come (`always`, `startAfter` as in the options). */
  setRate(rate: number, always?: boolean, startAfter?: number): void;
  stop(): Promise<void>;
}

/** mulberry32: a tiny seeded PRNG, so a failing schedule reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const s3Error = (code: string, message: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault</RequestId></Error>`;

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const up = new URL(opts.upstream);
  const random = prng(opts.seed);
  let rate = opts.rate;
  let always = !!opts.always;
  let startAfter = opts.startAfter ?? 0;
  const injected: FaultProxy['injected'] = { none: 0, 'reset-upload': 0, 'reset-download': 0, 'truncate-download': 0, 'error-500': 0, 'slowdown-503': 0, delay: 0 };
  // Each method has its own count of requests and its own turn of faults, so every 1/rate-th request of
  // each method meets a fault (the first at a seeded offset) and each method meets each of its kinds:
  // the schedule stays the same whatever the interleaving of concurrent requests.
  const counts = new Map<string, number>();
  let seenAll = 0;
  const turns = new Map<string, number>();
  const offsets = new Map<string, number>();
  const choose = (method: string, hasBody: boolean): Fault | undefined => {
    const n = counts.get(method) ?? 0;
    counts.set(method, n + 1);
    if (always) {
      if (seenAll++ < startAfter) return undefined;
    } else {
      if (rate <= 0) return undefined;
      const period = Math.max(1, Math.round(1 / rate));
      if (!offsets.has(method)) offsets.set(method, Math.floor(random() * period));
      if ((n + offsets.get(method)!) % period !== 0) return undefined;
    }
    const kinds: Fault[] = hasBody
      ? ['reset-upload', 'error-500', 'reset-upload', 'slowdown-503', 'reset-upload', 'delay']
      : method === 'GET'
        ? ['reset-download', 'error-500', 'truncate-download', 'slowdown-503', 'reset-download', 'delay', 'truncate-download']
        : ['error-500', 'slowdown-503', 'delay'];
    const usable = always ? kinds.filter((k) => k !== 'delay') : kinds;
    const t = turns.get(method) ?? 0;
    turns.set(method, t + 1);
    return usable[t % usable.length];
  };
  const sockets = new Set<Socket>();
  const agent = new http.Agent({ keepAlive: true });

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, cut?: { at: number; how: 'reset' | 'close' }) => {
    const upstream = http.request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers, agent }, (ures) => {
      const length = Number(ures.headers['content-length'] ?? 0);
      if (!cut || length === 0 || req.method === 'HEAD') {
        if (cut) {
          // Nothing to cut mid-body: the connection drops before the answer instead.
          ures.resume();
          req.socket.destroy();
          return;
        }
        res.writeHead(ures.statusCode ?? 502, ures.headers);
        ures.pipe(res);
        return;
      }
      const stopAt = Math.max(1, Math.min(length - 1, Math.floor(length * cut.at)));
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      let sent = 0;
      ures.on('data', (chunk: Buffer) => {
        if (sent >= stopAt) return;
        const piece = chunk.subarray(0, stopAt - sent);
        sent += piece.length;
        const last = sent >= stopAt;
        res.write(piece, () => {
          // Let the headers and the partial body reach the client first, so the fault hits the body.
          if (last) setTimeout(() => (cut.how === 'reset' ? req.socket.resetAndDestroy() : req.socket.end()), 10);
        });
        if (last) ures.destroy();
      });
    });
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  };

  const server = http.createServer((req, res) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    const where = 0.1 + 0.8 * random();
    const fault = choose(req.method ?? 'GET', hasBody);
    if (fault === undefined) {
      injected.none++;
      return forward(req, res);
    }
    injected[fault]++;
    switch (fault) {
      case 'delay':
        setTimeout(() => forward(req, res), 5 + Math.floor(where * 40));
        return;
      case 'error-500':
      case 'slowdown-503': {
        req.resume();
        req.on('end', () => {
          const [status, code, message] = fault === 'error-500' ? [500, 'InternalError', 'We encountered an internal error.'] : [503, 'SlowDown', 'Please reduce your request rate.'];
          res.writeHead(status, { 'content-type': 'application/xml' });
          res.end(s3Error(code, message));
        });
        return;
      }
      case 'reset-upload': {
        const length = Number(req.headers['content-length'] ?? 0);
        const stopAt = length > 0 ? Math.max(1, Math.floor(length * where)) : 1;
        let seen = 0;
        req.on('data', (chunk: Buffer) => {
          seen += chunk.length;
          if (seen >= stopAt) req.socket.resetAndDestroy();
        });
        req.on('end', () => req.socket.resetAndDestroy());
        return;
      }
      case 'reset-download':
        return forward(req, res, { at: where, how: 'reset' });
      case 'truncate-download':
        return forward(req, res, { at: where, how: 'close' });
    }
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    injected,
    setRate(r: number, a = false, after = 0) {
      rate = r;
      always = a;
      startAfter = after;
      counts.clear();
      seenAll = 0;
      turns.clear();
      offsets.clear();
    },
    async stop() {
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
