import type { Metadata } from 'next';
import { EnrolForm } from '@/components/auth/enrol-form';
import { DevBanner } from '@/components/dev-banner';
import { Alert } from '@/components/ui/alert';
import { enrolmentInvite, INVITE_MESSAGES } from '@/lib/services/auth/enrol';

export const metadata: Metadata = { title: 'Enrol your security key' };

export default async function EnrolPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const invite = await enrolmentInvite(token);
  return (
    <>
      <DevBanner />
      <main className="flex min-h-[90vh] items-center justify-center p-6">
        <section className="w-full max-w-md rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
          <p className="text-xs font-semibold tracking-widest text-slate-500 uppercase">int.arbitex.ai</p>
          <h1 className="mt-1 text-2xl font-semibold">Enrol your security key</h1>
          {invite.state === 'valid' ? (
            <>
              <p className="mt-3 text-sm text-slate-600">
                You were invited as <strong>{invite.role}</strong> with <strong>{invite.email}</strong>.
                Register a FIDO2 security key: it is the only way to sign in. Synced passkeys are not
                accepted.
              </p>
              <EnrolForm token={token} email={invite.email} />
            </>
          ) : (
            <div className="mt-4">
              <Alert tone="error">{INVITE_MESSAGES[invite.state]}</Alert>
            </div>
          )}
        </section>
      </main>
    </>
  );
}
