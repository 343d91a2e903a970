/**
 * What deploy/Dockerfile copies into the image from the build this suite runs against: `.next/standalone`
 * must hold the server, the modules it traced and the migrations, and none of the repository besides (no
 * tests, no benchmarks, no e2e fixtures such as the test MDS trust root). A dynamic file access that
 * Turbopack cannot scope traces the whole project into it (lib/secrets.ts has the ignore comments).
 */
import fs from 'node:fs';
import { expect, test } from '@playwright/test';

test('the standalone build the image ships holds the server, its traced modules and the migrations only', () => {
  expect(fs.readdirSync('.next/standalone').sort()).toEqual([
    '.next',
    'db',
    'node_modules',
    'package.json',
    'server.js',
  ]);
  expect(fs.readdirSync('.next/standalone/db')).toEqual(['migrations']);
});
