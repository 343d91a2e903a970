import { OutpostModeForm } from '@/components/orgs/outpost-mode-form';
import { ago, utc } from '@/lib/format';
import { INFERENCE_MODE_LABELS, type InferenceMode } from '@/lib/plans';
import { EmptyState } from '@/components/ui/empty-state';

interface Outpost {
  id: string;
  name: string;
  region: string;
  inferenceMode: InferenceMode;
  lastHeartbeatAt: Date | null;
  version: number;
}

/** An organisation's Outposts: heartbeat age and inference mode, with the superadmin's switch. */
export function OutpostsTable(props: { orgId: string; outposts: Outpost[]; canEdit: boolean }) {
  if (props.outposts.length === 0) return <EmptyState compact>No Outposts registered.</EmptyState>;
  return (
    <table className="w-full border-collapse text-left text-sm">
      <thead className="border-b border-slate-200 text-slate-500">
        <tr>
          <th className="py-1 pr-3 font-medium">Name</th>
          <th className="py-1 pr-3 font-medium">Region</th>
          <th className="py-1 pr-3 font-medium">Last heartbeat</th>
          <th className="py-1 pr-3 font-medium">Inference mode</th>
          {props.canEdit && <th className="py-1 font-medium">Change</th>}
        </tr>
      </thead>
      <tbody>
        {props.outposts.map((o) => (
          <tr key={o.id} className="border-b border-slate-100 align-top" data-outpost={o.name}>
            <td className="py-1 pr-3 font-mono text-xs">{o.name}</td>
            <td className="py-1 pr-3">{o.region}</td>
            <td className="py-1 pr-3">
              <time dateTime={o.lastHeartbeatAt?.toISOString()} title={utc(o.lastHeartbeatAt)}>
                {ago(o.lastHeartbeatAt)}
              </time>
            </td>
            <td className="py-1 pr-3" data-testid="inference-mode">
              {INFERENCE_MODE_LABELS[o.inferenceMode]}
            </td>
            {props.canEdit && (
              <td className="py-1">
                <OutpostModeForm
                  orgId={props.orgId}
                  outpost={{
                    id: o.id,
                    name: o.name,
                    inferenceMode: o.inferenceMode,
                    version: o.version,
                  }}
                />
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
