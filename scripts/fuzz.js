'use strict';
// `npm run fuzz`: every cargo-fuzz target (fuzz/fuzz_targets/, libFuzzer,
// nightly toolchain) for FUZZ_SECONDS each (default 60), then the
// property-based fuzz of wrapped Duplex streams (fast-check,
// __test__/harness/streams.js) for as long again. Fails on a crash, a panic,
// a hang (libFuzzer's -timeout, or a harness deadline) or a broken property.
//
//   FUZZ_SECONDS=n   seconds per target (default 60)
//   FUZZ_TARGETS=a,b only these targets ('streams' is the JS fuzz)
//   FUZZ_KEEP=1      merge inputs that reach new code into fuzz/corpus/
//                    (libFuzzer -merge=1: only what adds coverage)
//
// A crashing input is minimized (cargo fuzz tmin) and copied into
// fuzz/corpus/<target>/, where `cargo test` (src/fuzzing.rs) replays it:
// fix the bug, keep the file as its regression test.
// Needs: rustup's nightly toolchain and `cargo install cargo-fuzz`.

const { spawnSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const seconds = Number(process.env.FUZZ_SECONDS) || 60;
const targets = ['context', 'pkcs12', 'client_hello', 'record_stream'];
const wanted = process.env.FUZZ_TARGETS ? process.env.FUZZ_TARGETS.split(',') : [...targets, 'streams'];

function cargoFuzz(args, options = {}) {
  return spawnSync('cargo', ['+nightly', 'fuzz', ...args], {
    cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options,
  });
}

function stat(output, name) {
  const m = output.match(new RegExp(`stat::${name}:\\s*(\\d+)`));
  return m ? Number(m[1]) : undefined;
}

// Minimizes a crashing input and adds it to the committed corpus.
function keepCrash(target, artifact) {
  const min = `${artifact}.min`;
  cargoFuzz(['tmin', '-O', target, artifact, '--', `-exact_artifact_path=${min}`, '-runs=2000'], { stdio: 'ignore' });
  const input = fs.existsSync(min) ? min : artifact;
  const data = fs.readFileSync(input);
  const name = `regress-${crypto.createHash('sha1').update(data).digest('hex').slice(0, 12)}`;
  fs.writeFileSync(path.join(root, 'fuzz', 'corpus', target, name), data);
  return name;
}

function runTarget(target) {
  const corpus = path.join(root, 'fuzz', 'corpus', target);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `fuzz-${target}-`));
  const artifacts = path.join(root, 'fuzz', 'artifacts', target);
  fs.mkdirSync(artifacts, { recursive: true });
  console.log(`\n== ${target}: ${seconds}s`);
  const r = cargoFuzz([
    'run', '-O', target, work, corpus, '--',
    `-max_total_time=${seconds}`, '-timeout=20', '-rss_limit_mb=4096', '-max_len=8192',
    `-artifact_prefix=${artifacts}/`, '-print_final_stats=1',
  ]);
  const output = `${r.stdout}${r.stderr}`;
  const result = {
    target,
    seconds,
    execs: stat(output, 'number_of_executed_units'),
    coverage: (output.match(/cov: (\d+)/g) || []).pop(),
    ok: r.status === 0,
  };
  if (!result.ok) {
    console.log(output.split('\n').slice(-60).join('\n'));
    const found = fs.readdirSync(artifacts).filter((f) => !f.endsWith('.min'));
    result.kept = found.map((f) => keepCrash(target, path.join(artifacts, f)));
  } else if (process.env.FUZZ_KEEP === '1') {
    cargoFuzz(['run', '-O', target, corpus, work, '--', '-merge=1'], { stdio: 'ignore' });
  }
  fs.rmSync(work, { recursive: true, force: true });
  return result;
}

async function runStreams() {
  const fc = require('fast-check');
  const streams = require(path.join(root, '__test__', 'harness', 'streams.js'));
  const impls = { node: require('node:tls'), rustls: require(root) };
  const seed = process.env.SEED !== undefined ? Number(process.env.SEED) : Date.now() % 2 ** 31;
  console.log(`\n== streams (fast-check): ${seconds}s, seed ${seed}`);
  let runs = 0;
  const property = fc.asyncProperty(streams.scenarioArb(fc), async (sc) => {
    runs++;
    const failures = await streams.runScenario(impls, sc);
    if (failures.length) throw new Error(failures.join('\n'));
  });
  try {
    await fc.assert(property, {
      seed, numRuns: 1e9, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false,
    });
    return { target: 'streams', seconds, execs: runs, ok: true };
  } catch (err) {
    console.log(err.message.slice(0, 4000));
    return { target: 'streams', seconds, execs: runs, ok: false, seed };
  }
}

(async () => {
  const results = [];
  const native = wanted.filter((t) => targets.includes(t));
  if (native.length) {
    console.log('building the fuzz targets (cargo +nightly fuzz build -O)');
    const b = cargoFuzz(['build', '-O'], { stdio: 'inherit' });
    if (b.status !== 0) {
      console.error('fuzz build failed: is the nightly toolchain and cargo-fuzz installed?');
      process.exit(1);
    }
    for (const t of native) results.push(runTarget(t));
  }
  if (wanted.includes('streams')) results.push(await runStreams());
  console.log('\n| target | seconds | executions | coverage | result |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of results) {
    const outcome = r.ok ? 'no crash' : `FAILED${r.kept ? ` (kept ${r.kept.join(', ')})` : ''}`;
    console.log(`| ${r.target} | ${r.seconds} | ${r.execs ?? '?'} | ${r.coverage ?? '-'} | ${outcome} |`);
  }
  process.exit(results.every((r) => r.ok) ? 0 : 1);
})();
