/** Where e2e/serve.ts leaves the first superadmin's enrolment link for the specs. */
export const BOOTSTRAP_LINK_FILE = '.e2e/bootstrap-link';
/** The first superadmin's virtual key, which e2e/bootstrap.setup.ts enrols and every spec can import. */
export const SUPERADMIN_CREDENTIAL_FILE = '.e2e/superadmin-credential.json';
/** The QA auditor's key that e2e/bootstrap.setup.ts enrols with `npm run e2e:qa-credential`, for qa.spec.ts. */
export const LOCAL_QA_CREDENTIAL_FILE = '.e2e/qa-credential.json';
