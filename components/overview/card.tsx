import Link from 'next/link';
import type { ReactNode } from 'react';

const TONES = {
  neutral: 'border-slate-200',
  ok: 'border-emerald-300',
  warn: 'border-amber-400',
  bad: 'border-red-400',
};

/** One concern of the overview: its title links to the concern's page; the tone colours the left edge. */
export function OverviewCard(props: {
  id: string;
  title: string;
  href: string;
  tone?: keyof typeof TONES;
  className?: string;
  children: ReactNode;
}) {
  return (
    <section
      aria-labelledby={`overview-${props.id}`}
      data-card={props.id}
      className={`rounded-lg border border-l-4 bg-white p-4 ${TONES[props.tone ?? 'neutral']} ${props.className ?? ''}`}
    >
      <h2 id={`overview-${props.id}`} className="mb-2 font-semibold">
        <Link href={props.href} className="text-slate-900 hover:underline">
          {props.title}
        </Link>
      </h2>
      {props.children}
    </section>
  );
}

/** A headline figure: the number (its own test id) and what it counts. */
export function Figure({ testId, value, label }: { testId: string; value: string; label: string }) {
  return (
    <p className="text-sm text-slate-600">
      <span data-testid={testId} className="mr-1.5 text-2xl font-semibold text-slate-900 tabular-nums">
        {value}
      </span>
      {label}
    </p>
  );
}
