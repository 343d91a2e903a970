import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { ActForForm } from '@/components/acting/act-for-form';
import { OrgActions } from '@/components/acting/org-actions';
import { can } from '@/lib/auth/permissions';
import { requireStaffPage } from '@/lib/auth/current';
import { config } from '@/lib/config';
import { NotFoundError } from '@/lib/errors';
import { orgDetail } from '@/lib/queries/orgs';

export const metadata: Metadata = { title: 'Organisation' };

export default async function OrgPage({ params }: { params: Promise<{ id: string }> }) {
  const ctx = await requireStaffPage('orgs.read');
  const { id } = await params;
  const { org, notes } = await orgDetail(ctx, id).catch((err: unknown) => {
    if (err instanceof NotFoundError) notFound();
    throw err;
  });
  const c = config();
  const actingHere = ctx.acting?.orgId === org.id;
  return (
    <section className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">{org.name}</h1>
        <p className="text-sm text-slate-600">
          <span className="font-mono">{org.slug}</span> · {org.planTier} · {org.status}
        </p>
      </div>
      {actingHere ? (
        <OrgActions
          orgId={org.id}
          portalUrl={c.PORTAL_URL}
          canNote={can(ctx.role, 'orgs.support_note.write')}
          canMint={can(ctx.role, 'platform_token.mint')}
        />
      ) : (
        can(ctx.role, 'acting.start') && (
          <ActForForm
            orgId={org.id}
            orgName={org.name}
            defaultMinutes={c.ACTING_DEFAULT_MINUTES}
            maxMinutes={c.ACTING_MAX_MINUTES}
          />
        )
      )}
      <div>
        <h2 className="mb-2 font-semibold">Support notes</h2>
        {notes.length === 0 ? (
          <p className="text-sm text-slate-500">No notes yet.</p>
        ) : (
          <ul className="space-y-2 text-sm">
            {notes.map((n) => (
              <li key={n.id} className="rounded border border-slate-200 bg-white p-2">
                <p>{n.body}</p>
                <p className="text-xs text-slate-500">
                  {n.author} · {n.createdAt.toISOString().replace('T', ' ').slice(0, 16)} UTC
                </p>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
