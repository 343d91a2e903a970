import Link from 'next/link';
import { OutpostModeForm } from '@/components/orgs/outpost-mode-form';
import { ago, num, utc } from '@/lib/format';
import { INFERENCE_MODE_LABELS, type InferenceMode } from '@/lib/plans';
import { EmptyState } from '@/components/ui/empty-state';

/** An Outpost whose heartbeat is older than this is flagged as silent. */
const SILENT_AFTER_MS = 10 * 60_000;

export interface OutpostListRow {
  id: string;
  name: string;
  region: string;
  inferenceMode: InferenceMode;
  lastHeartbeatAt: Date | null;
  version: number;
  orgId: string;
  orgName: string;
}

/**
 * Every Outpost with its inference mode. A superadmin switches a mode with the Outposts section's own
 * form and service (step-up, reason, audited), which needs an acting context for the Outpost's
 * organisation: inside one, the form is here; otherwise a link leads to the organisation to start one.
 */
export function OutpostsPanel(props: {
  rows: OutpostListRow[];
  total: number;
  canSwitch: boolean;
  actingOrgId: string | null;
  now: Date;
}) {
  const silent = (o: OutpostListRow) =>
    !o.lastHeartbeatAt || props.now.getTime() - o.lastHeartbeatAt.getTime() > SILENT_AFTER_MS;
  return (
    <section aria-labelledby="pool-outposts" className="rounded-lg border border-slate-200 bg-white p-4">
      <div className="mb-3 flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="pool-outposts" className="font-semibold">
          Outposts
        </h2>
        <p className="text-xs text-slate-600">
          {props.canSwitch
            ? 'Switch a mode from inside an acting context for its organisation (step-up and a reason).'
            : 'The inference mode is vendor-only: superadmins switch it.'}
        </p>
      </div>
      <p className="mb-2 text-sm text-slate-700">
        GPU: DLP inference on the GPU pool, and requests are blocked when no GPU can serve. CPU trial:
        inference on CPU, for trial Outposts only.
      </p>
      {props.rows.length === 0 ? (
        <EmptyState compact>No Outposts registered.</EmptyState>
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full border-collapse text-left text-sm">
            <thead className="border-b border-slate-200 text-slate-600">
              <tr>
                <th className="py-1 pr-3 font-medium">Organisation</th>
                <th className="py-1 pr-3 font-medium">Outpost</th>
                <th className="py-1 pr-3 font-medium">Region</th>
                <th className="py-1 pr-3 font-medium">Last heartbeat</th>
                <th className="py-1 pr-3 font-medium">Inference mode</th>
                {props.canSwitch && <th className="py-1 font-medium">Change</th>}
              </tr>
            </thead>
            <tbody>
              {props.rows.map((o) => (
                <tr key={o.id} data-outpost={o.name} className="border-b border-slate-100 align-top">
                  <td className="py-1 pr-3">
                    <Link href={`/orgs/${o.orgId}`} className="text-sky-800 underline">
                      {o.orgName}
                    </Link>
                  </td>
                  <td className="py-1 pr-3 font-mono text-xs">{o.name}</td>
                  <td className="py-1 pr-3">{o.region}</td>
                  <td className={`py-1 pr-3 ${silent(o) ? 'font-semibold text-red-800' : ''}`}>
                    <time dateTime={o.lastHeartbeatAt?.toISOString()} title={utc(o.lastHeartbeatAt)}>
                      {ago(o.lastHeartbeatAt, props.now)}
                    </time>
                    {silent(o) && ' (silent)'}
                  </td>
                  <td className="py-1 pr-3" data-testid="inference-mode">
                    {o.inferenceMode === 'cpu_trial' ? (
                      <span className="font-semibold text-amber-900">{INFERENCE_MODE_LABELS.cpu_trial}</span>
                    ) : (
                      INFERENCE_MODE_LABELS.gpu
                    )}
                  </td>
                  {props.canSwitch && (
                    <td className="py-1">
                      {props.actingOrgId === o.orgId ? (
                        <OutpostModeForm
                          orgId={o.orgId}
                          outpost={{
                            id: o.id,
                            name: o.name,
                            inferenceMode: o.inferenceMode,
                            version: o.version,
                          }}
                        />
                      ) : (
                        <Link href={`/orgs/${o.orgId}`} className="text-sky-800 underline">
                          Act for {o.orgName} to switch
                        </Link>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          {props.total > props.rows.length && (
            <p className="mt-2 text-xs text-slate-600">
              Showing {num(props.rows.length)} of {num(props.total)} Outposts: CPU trials first.
            </p>
          )}
        </div>
      )}
    </section>
  );
}
