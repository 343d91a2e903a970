/** The session cookie's names. `__Secure-` needs HTTPS, so plain-HTTP local runs use the bare name. */
export const SESSION_COOKIES = ['__Secure-portal.session', 'portal.session'] as const;
