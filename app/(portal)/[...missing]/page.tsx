import { notFound } from 'next/navigation';

/**
 * Any address under the portal that no page serves: the not-found page of (portal), inside the shell (after
 * the layout's session check), instead of the bare root one.
 */
export default function Missing() {
  notFound();
}
