import type { ReactNode } from 'react';

/**
 * A table's header row: each column's name, muted, over a rule. `framed`: the table fills a TableFrame, so
 * the row is tinted and the first column keeps off the frame's edge. A column named for screen readers only
 * is given as a node (`<span className="sr-only">Actions</span>`).
 */
export function TableHead({ columns, framed = false }: { columns: readonly ReactNode[]; framed?: boolean }) {
  return (
    <thead className={`border-b border-slate-200 text-slate-500 ${framed ? 'bg-slate-50' : ''}`}>
      <tr>
        {columns.map((column, i) => (
          <th key={i} scope="col" className={`py-2 pr-4 font-medium ${framed && i === 0 ? 'pl-4' : ''}`}>
            {column}
          </th>
        ))}
      </tr>
    </thead>
  );
}
