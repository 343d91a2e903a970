'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { apiPost, ceremonyMessage } from '@/components/api';
import { Button } from '@/components/ui/button';

export function EndContextButton({ contextId }: { contextId: string }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  return (
    <span className="inline-flex items-center gap-2">
      <Button
        variant="secondary"
        onClick={async () => {
          try {
            await apiPost('/api/acting/end', { contextId });
            router.refresh();
          } catch (err) {
            setError(ceremonyMessage(err));
          }
        }}
      >
        End
      </Button>
      {error && <span className="text-xs text-red-700">{error}</span>}
    </span>
  );
}
