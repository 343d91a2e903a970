/** Where e2e/serve.ts leaves the first superadmin's enrolment link for the specs. */
export const BOOTSTRAP_LINK_FILE = '.e2e/bootstrap-link';
