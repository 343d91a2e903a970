import type { Metadata } from 'next';
import { SignInForm } from '@/components/auth/sign-in-form';
import { DevBanner } from '@/components/dev-banner';

export const metadata: Metadata = { title: 'Sign in' };

export default async function LoginPage({ searchParams }: { searchParams: Promise<{ next?: string }> }) {
  const { next } = await searchParams;
  return (
    <>
      <DevBanner />
      <main className="flex min-h-[90vh] items-center justify-center p-6">
        <section className="w-full max-w-sm rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
          <p className="text-xs font-semibold tracking-widest text-slate-500 uppercase">int.arbitex.ai</p>
          <h1 className="mt-1 text-2xl font-semibold">Staff sign-in</h1>
          <p className="mt-3 text-sm text-slate-600">
            Sign in with your FIDO2 security key. There is no password. Access is by invitation only.
          </p>
          <SignInForm next={next ?? null} />
        </section>
      </main>
    </>
  );
}
