import { CopyButton } from '@/components/ui/copy-button';

/**
 * A long id shown short: its first 8 characters, then an ellipsis (drawn by CSS), and a copy button for the whole id. The
 * rest of the id is in the text for screen readers and for find-in-page (visually hidden), and in the title.
 */
export function ShortId({ id, label }: { id: string; label: string }) {
  const short = id.length > 12;
  return (
    <span className="inline-flex items-baseline whitespace-nowrap" data-id={id}>
      <span className="font-mono text-xs" title={id}>
        {/* The ellipsis is drawn by CSS, so the element's text is the whole id. */}
        <span className={short ? "after:content-['…']" : undefined}>{short ? id.slice(0, 8) : id}</span>
        {short && <span className="sr-only">{id.slice(8)}</span>}
      </span>
      <CopyButton value={id} label={label} />
    </span>
  );
}
