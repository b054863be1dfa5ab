#!/usr/bin/env node
/* global process, console */
// Runs the TypeScript CLI through tsx (a dependency) rather than a bundle: nothing to build
// after `npm ci`, so `npx longtail` in a fresh clone runs exactly the checked-out source, and a
// bundle cannot go stale beside it.
require('tsx/cjs');
require('../cli/main.ts')
  .main(process.argv)
  .catch((error) => {
    console.error(`longtail: ${error.message}`);
    process.exitCode = 1;
  });
