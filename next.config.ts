import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // PGlite ships WebAssembly and data files that must be loaded from node_modules, not bundled.
  serverExternalPackages: ['@electric-sql/pglite', 'postgres', 'pino'],
  poweredByHeader: false,
  // forbidden() and unauthorized(): a page answers 403 or 401 itself, not only a redirect.
  experimental: { authInterrupts: true },
};

export default nextConfig;
