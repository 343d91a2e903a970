import { STAFF_ROLES, type StaffRole } from '@/lib/auth/roles';

/** The labelled role picker of the staff forms. */
export function RoleSelect({
  id,
  value,
  onChange,
}: {
  id: string;
  value: StaffRole;
  onChange: (role: StaffRole) => void;
}) {
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-slate-700">
        Role
      </label>
      <select
        id={id}
        value={value}
        onChange={(e) => onChange(e.target.value as StaffRole)}
        className="mt-1 rounded-md border border-slate-300 px-3 py-2 text-sm"
      >
        {STAFF_ROLES.map((r) => (
          <option key={r}>{r}</option>
        ))}
      </select>
    </div>
  );
}
