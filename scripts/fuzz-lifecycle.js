'use strict';
// `npm run fuzz:lifecycle`: the differential lifecycle harness with a random
// seed and many runs. RUNS=n, SEED=n and ROLES=a,b override; KNOWN=1 skips
// the scenarios of known, unfixed differences (engine.kKnownScenarios). A
// failure prints the seed, the shrunk scenario and both traces.

const fc = require('fast-check');
const path = require('path');
const engine = require(path.join(__dirname, '..', '__test__', 'harness', 'engine.js'));

const impls = { node: require('node:tls'), rustls: require('..') };
const seed = process.env.SEED !== undefined ? Number(process.env.SEED) : Date.now() % 2 ** 31;
const numRuns = Number(process.env.RUNS) || 300;
const roles = process.env.ROLES ? process.env.ROLES.split(',') : undefined;

(async () => {
  console.log(`seed ${seed}, ${numRuns} runs`);
  await engine.run(impls.rustls, { role: 'connect', cert: 'rsa', rejectUnauthorized: true, peer: {}, steps: [] });
  await fc.assert(
    fc.asyncProperty(engine.scenarioArb(fc, { roles }), (sc) => {
      if (process.env.KNOWN === '1') fc.pre(!engine.kKnownScenarios.some((k) => k.test(sc)));
      return engine.differential(impls, sc);
    }),
    { seed, numRuns, endOnFailure: process.env.NO_SHRINK === '1', verbose: 1 },
  );
  console.log('no difference found');
})().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
