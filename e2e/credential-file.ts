import fs from 'node:fs';
import path from 'node:path';
import type { CdpCredential, VirtualAuthenticator } from './authenticator';

/**
 * A staff member's virtual security key, saved so that another browser can sign in with it: the CDP
 * credential (with its private key) and the portal it was enrolled at. Written with mode 0600.
 */
export interface SavedCredential {
  version: 1;
  /** The portal's origin, e.g. https://int.arbitex.ai. */
  portal: string;
  email: string;
  role: string;
  staffId?: string;
  savedAt: string;
  credential: CdpCredential;
}

export function readCredentialFile(file: string): SavedCredential {
  let saved: SavedCredential;
  try {
    saved = JSON.parse(fs.readFileSync(file, 'utf8')) as SavedCredential;
  } catch (err) {
    throw new Error(`Cannot read the saved credential ${file}: ${(err as Error).message}`);
  }
  if (saved.version !== 1 || !saved.credential?.privateKey || !saved.credential.rpId || !saved.portal) {
    throw new Error(
      `${file} is not a credential file written by the e2e suite or npm run e2e:qa-credential.`,
    );
  }
  return saved;
}

export function writeCredentialFile(
  file: string,
  saved: SavedCredential,
  opts: { overwrite?: boolean } = {},
) {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  // Written beside the target and renamed over it, so that a crash never leaves half a key behind.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    if (!opts.overwrite && fs.existsSync(file))
      throw new Error(`${file} already exists; not overwriting it.`);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  fs.chmodSync(file, 0o600);
}

/** Seconds since 2024-01-01: a floor for signature counters that only ever grows. */
const COUNTER_EPOCH_MS = Date.UTC(2024, 0, 1);
/** Assertions one import may make (sign-in, step-ups) before the next import's counter starts. */
const COUNTER_BLOCK = 100;

/**
 * Imports a saved credential into a virtual authenticator with a signature counter above any it has used
 * before. The portal locks a key whose counter goes backwards, so every browser that imports the key gets
 * its own block of counter values: the file keeps the next free value (and is rewritten for that), and the
 * clock is a floor in case the file is an older copy.
 */
export async function importCredential(
  authenticator: VirtualAuthenticator,
  file: string,
): Promise<SavedCredential> {
  const saved = readCredentialFile(file);
  const floor = Math.floor((Date.now() - COUNTER_EPOCH_MS) / 1000);
  const signCount = Math.max(saved.credential.signCount, floor);
  writeCredentialFile(
    file,
    { ...saved, credential: { ...saved.credential, signCount: signCount + COUNTER_BLOCK } },
    { overwrite: true },
  );
  // The portal wants a discoverable (resident) credential on a CTAP2 USB key with user verification,
  // which attachAuthenticator's defaults are.
  await authenticator.addCredential({ ...saved.credential, isResidentCredential: true, signCount });
  return saved;
}
