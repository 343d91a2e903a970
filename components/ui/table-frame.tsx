import type { ReactNode } from 'react';

/**
 * The frame of a full-width table: white, bordered, and scrolling sideways when a narrow window cannot hold
 * it. It is focusable, so that the keyboard can scroll it too (axe: scrollable-region-focusable).
 */
export function TableFrame({ children }: { children: ReactNode }) {
  return (
    <div
      tabIndex={0}
      className="overflow-x-auto rounded-lg border border-slate-200 bg-white focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500"
    >
      {children}
    </div>
  );
}
