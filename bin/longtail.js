#!/usr/bin/env node
/* global process, console */
// Runs the TypeScript CLI through tsx (a dependency) rather than a bundle: nothing to build
// after `npm ci`, so `npx longtail` in a fresh clone runs exactly the checked-out source, and a
// bundle cannot go stale beside it.
// The SDK's notice about Node 20 would open every command's output; the project targets Node 20+
// and quiets it everywhere else too (the local runtime, CI).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs');
require('../cli/main.ts')
  .main(process.argv)
  .catch((error) => {
    console.error(`longtail: ${error.message}`);
    process.exitCode = 1;
  });
