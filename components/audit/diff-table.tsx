const show = (v: unknown) => (v === undefined ? '' : JSON.stringify(v));

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * An entry's diff: `before` and `after` side by side, field by field (changed fields marked), then the
 * other facts the write recorded (a reason, a ticket, a weakening flag…).
 */
export function DiffTable({ diff }: { diff: unknown }) {
  if (!isRecord(diff)) return <p className="text-sm text-slate-600">This entry records no change.</p>;
  const { before, after, ...facts } = diff;
  const b = isRecord(before) ? before : {};
  const a = isRecord(after) ? after : {};
  const fields = [...new Set([...Object.keys(b), ...Object.keys(a)])];
  const hasChange = before !== undefined || after !== undefined;
  return (
    <div className="space-y-4">
      {hasChange &&
        (fields.length > 0 ? (
          <table className="w-full border-collapse text-left text-sm">
            <caption className="sr-only">Values before and after</caption>
            <thead className="border-b border-slate-200 text-slate-500">
              <tr>
                <th scope="col" className="py-2 pr-3 font-medium">
                  Field
                </th>
                <th scope="col" className="py-2 pr-3 font-medium">
                  Before
                </th>
                <th scope="col" className="py-2 font-medium">
                  After
                </th>
              </tr>
            </thead>
            <tbody>
              {fields.map((f) => {
                const changed = show(b[f]) !== show(a[f]);
                return (
                  <tr
                    key={f}
                    className="border-b border-slate-100 align-top"
                    data-field={f}
                    data-changed={changed || undefined}
                  >
                    <th scope="row" className="py-2 pr-3 font-mono text-xs font-normal">
                      {f}
                      {changed && <span className="ml-2 font-sans text-amber-800">changed</span>}
                    </th>
                    <td className="py-2 pr-3 font-mono text-xs break-all">{show(b[f])}</td>
                    <td className="py-2 font-mono text-xs break-all">{show(a[f])}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        ) : (
          <dl className="font-mono text-xs">
            <dt className="font-sans text-sm font-medium text-slate-600">Before</dt>
            <dd className="break-all">{show(before) || '—'}</dd>
            <dt className="mt-2 font-sans text-sm font-medium text-slate-600">After</dt>
            <dd className="break-all">{show(after) || '—'}</dd>
          </dl>
        ))}
      {Object.keys(facts).length > 0 && (
        <dl className="divide-y divide-slate-100">
          {Object.entries(facts).map(([k, v]) => (
            <div key={k} className="grid grid-cols-1 gap-1 py-2 sm:grid-cols-4" data-fact={k}>
              <dt className="font-mono text-xs text-slate-600">{k}</dt>
              <dd className="font-mono text-xs break-all sm:col-span-3">
                {typeof v === 'string' ? v : show(v)}
              </dd>
            </div>
          ))}
        </dl>
      )}
    </div>
  );
}
