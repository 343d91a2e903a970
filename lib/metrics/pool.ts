/**
 * How busy a postgres.js pool is, as far as it can be seen from outside it: postgres.js exposes no pool
 * statistics, so db/client.ts counts the operations that hold or wait for one of its connections (a
 * statement outside a transaction, or a whole transaction) from the moment the driver takes them until
 * they settle. Up to `max` of them are on a connection; the rest wait in postgres.js's queue. LISTEN uses a
 * connection of its own, outside `max`, and is not counted.
 */
export class PoolUsage {
  private active = 0;
  private saturatedS = 0;
  private since = performance.now();

  constructor(readonly max: number) {}

  /** Operations that hold or wait for a connection. */
  get demand(): number {
    return this.active;
  }

  get inUse(): number {
    return Math.min(this.active, this.max);
  }

  get waiting(): number {
    return Math.max(0, this.active - this.max);
  }

  /** Seconds, since the pool was made, during which every connection was taken. */
  saturatedSeconds(now = performance.now()): number {
    return this.saturatedS + (this.active >= this.max ? (now - this.since) / 1000 : 0);
  }

  begin(): void {
    this.move(1);
  }

  end(): void {
    this.move(-1);
  }

  private move(by: number): void {
    const now = performance.now();
    if (this.active >= this.max) this.saturatedS += (now - this.since) / 1000;
    this.since = now;
    this.active = Math.max(0, this.active + by);
  }
}

/** The parts of a postgres.js client that drizzle takes connections through, as this file uses them. */
interface Client {
  unsafe: (...args: unknown[]) => { handler: (query: unknown) => unknown };
  begin: (...args: unknown[]) => Promise<unknown>;
}

/**
 * Counts every operation drizzle sends through `client` in `usage`. postgres.js runs a statement when it
 * calls the query's handler (on the first `then`), so the count starts there and ends when the query
 * settles; a transaction counts once, from `begin` until it commits or rolls back (its statements run on
 * the connection it holds).
 */
export function trackPool<C extends object>(sql: C, usage: PoolUsage): C {
  const client = sql as unknown as Client;
  const unsafe = client.unsafe.bind(client);
  const begin = client.begin.bind(client);
  const done = () => usage.end();
  Object.assign(client, {
    unsafe: (...args: unknown[]) => {
      const query = unsafe(...args);
      const handler = query.handler;
      query.handler = (q: unknown) => {
        usage.begin();
        // Promise.prototype.then, not the query's own (which would start it again): settles either way.
        Promise.prototype.then.call(q, done, done);
        return handler(q);
      };
      return query;
    },
    begin: async (...args: unknown[]) => {
      usage.begin();
      try {
        return await begin(...args);
      } finally {
        usage.end();
      }
    },
  });
  return sql;
}
