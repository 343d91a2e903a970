import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the receiver does with the n-th request (1-based). */
export type Behaviour = 'ok' | '500' | '503' | '429' | 'hang';

/**
 * A local stand-in for Splunk's HTTP Event Collector. It checks `Authorization: Splunk <token>` (401
 * otherwise) and every envelope (`time` in epoch seconds, `sourcetype: "arbitex:ocsf"`, the OCSF event),
 * and fails on purpose as `plan` says. Only batches it answered 200 count as accepted.
 */
export async function hecReceiver(opts: { token: string; plan?: (n: number) => Behaviour; port?: number }) {
  const accepted: number[] = [];
  const problems: string[] = [];
  const hanging = new Set<http.ServerResponse>();
  let requests = 0;
  let refusedTokens = 0;
  const counts: Record<Behaviour, number> = { ok: 0, '500': 0, '503': 0, '429': 0, hang: 0 };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = ++requests;
      if (req.method !== 'POST' || req.url !== '/services/collector/event')
        problems.push(`request ${n}: ${req.method} ${req.url}`);
      if (req.headers.authorization !== `Splunk ${opts.token}`) {
        refusedTokens++;
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"text":"Invalid token","code":4}');
        return;
      }
      const seqs: number[] = [];
      for (const [i, line] of chunks.map(String).join('').split('\n').entries()) {
        let env: {
          time?: unknown;
          sourcetype?: unknown;
          source?: unknown;
          event?: { time?: number; class_uid?: unknown; unmapped?: { seq?: unknown } };
        };
        try {
          env = JSON.parse(line);
        } catch {
          problems.push(`request ${n} line ${i}: not JSON`);
          continue;
        }
        const extra = Object.keys(env).filter((k) => !['time', 'sourcetype', 'source', 'event'].includes(k));
        if (extra.length) problems.push(`request ${n} line ${i}: unexpected keys ${extra.join(', ')}`);
        if (env.sourcetype !== 'arbitex:ocsf')
          problems.push(`request ${n} line ${i}: sourcetype ${String(env.sourcetype)}`);
        if (typeof env.time !== 'number' || Math.round(env.time * 1000) !== env.event?.time)
          problems.push(
            `request ${n} line ${i}: time ${String(env.time)} is not the event's time in epoch seconds`,
          );
        if (typeof env.event?.class_uid !== 'number') problems.push(`request ${n} line ${i}: no OCSF event`);
        const seq = env.event?.unmapped?.seq;
        if (typeof seq !== 'number') problems.push(`request ${n} line ${i}: no seq`);
        else seqs.push(seq);
      }
      const behaviour = opts.plan?.(n) ?? 'ok';
      counts[behaviour]++;
      if (behaviour === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (behaviour === 'ok') {
        res.on('finish', () => accepted.push(...seqs));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"Success","code":0}');
        return;
      }
      const status = Number(behaviour);
      res
        .writeHead(status, {
          'content-type': 'application/json',
          ...(status === 429 && { 'retry-after': '0' }),
        })
        .end(`{"text":"Server is busy","code":9}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/services/collector/event`,
    accepted,
    problems,
    counts,
    get requests() {
      return requests;
    },
    get refusedTokens() {
      return refusedTokens;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
