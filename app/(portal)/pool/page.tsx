import type { Metadata } from 'next';
import { PoolView } from '@/components/pool/pool-view';
import { OutpostsPanel } from '@/components/pool/outposts-panel';
import { can } from '@/lib/auth/permissions';
import { requireStaffPage } from '@/lib/auth/current';
import { config } from '@/lib/config';
import { PROMETHEUS_URL_VARIABLE } from '@/lib/pool';
import { listOutposts } from '@/lib/queries/outposts';

export const metadata: Metadata = { title: 'GPU inference pool' };

/**
 * Whether the DeBERTa DLP inference pool can serve: the page staff open during an incident. The figures
 * come from Prometheus through /api/pool (polled in the browser); the Outposts from the database.
 */
export default async function PoolPage() {
  const ctx = await requireStaffPage('pool.read');
  const c = config();
  const outposts = await listOutposts(ctx);
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">GPU inference pool</h1>
        <p className="text-sm text-slate-600">
          Can the DeBERTa DLP pool serve? When it cannot, the gateway fails closed and customers&rsquo;
          requests are blocked.
          {c.PROMETHEUS_URL && (
            <>
              {' '}
              Source: <span className="font-mono">{c.PROMETHEUS_URL}</span>
            </>
          )}
        </p>
      </div>
      {c.PROMETHEUS_URL ? (
        <PoolView refreshS={c.POOL_REFRESH_S} prometheusUrl={c.PROMETHEUS_URL} />
      ) : (
        <section
          aria-labelledby="pool-not-configured"
          className="rounded-lg border border-amber-300 bg-amber-50 p-4 text-sm text-amber-950"
          data-testid="pool-not-configured"
        >
          <h2 id="pool-not-configured" className="mb-1 font-semibold">
            Not configured
          </h2>
          <p>
            The pool view reads Prometheus, and no Prometheus is configured. Set{' '}
            <code className="rounded bg-white px-1 font-mono">{PROMETHEUS_URL_VARIABLE}</code> to the
            Prometheus server&rsquo;s URL (for example{' '}
            <code className="rounded bg-white px-1 font-mono">
              {PROMETHEUS_URL_VARIABLE}=http://prometheus.monitoring:9090
            </code>
            ) and restart the portal. A bearer token, if Prometheus needs one, is the secret{' '}
            <code className="rounded bg-white px-1 font-mono">prometheus-bearer-token</code>.
          </p>
        </section>
      )}
      <OutpostsPanel
        rows={outposts.rows}
        total={outposts.total}
        canSwitch={can(ctx.role, 'orgs.outpost_mode.write')}
        actingOrgId={ctx.acting?.orgId ?? null}
        now={new Date()}
      />
    </div>
  );
}
