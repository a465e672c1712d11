'use strict';
// `npm test`: Node's built-in test runner over __test__/, then the small
// jest suite, then the ava suite, all on the Node that runs this script.

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const node = process.execPath;

function run(args) {
  console.log(`\n$ node ${args.join(' ')}`);
  const r = spawnSync(node, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status || 1);
}

const files = fs.readdirSync(path.join(root, '__test__'))
  .filter((f) => f.endsWith('.test.js'))
  .sort()
  .map((f) => path.join('__test__', f));
// --test-force-exit: a file whose tests are done ends even if a socket of
// the node:tls baseline is still open (Node 24 left one, now and then, after
// replayed.test.js's rejecting-client scenario, and the run hung there); the
// tests' own assertions on closes are what check the package.
// --test-timeout: a test still running after 5 minutes fails, rather than hang
// the run (CI has 90 minutes for everything).
run(['--test', '--test-concurrency=1', '--test-force-exit', '--test-timeout=300000', ...files]);
run([require.resolve('jest/bin/jest', { paths: [root] }),
  '--config', '__test__/jest/jest.config.js', '--runInBand']);
// ava: its files run in worker threads (package.json "ava" has the globs).
run([path.join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs')]);
