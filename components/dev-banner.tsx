import { config } from '@/lib/config';

/** Said on every page when attestation is not checked against the FIDO metadata. */
export function DevBanner() {
  if (config().WEBAUTHN_ATTESTATION_TRUST !== 'relaxed') return null;
  return (
    <div role="note" className="bg-amber-100 px-4 py-1.5 text-center text-xs font-medium text-amber-900">
      Development mode: any FIDO2 authenticator with user verification is accepted; attestation is not checked
      against FIDO metadata.
    </div>
  );
}
