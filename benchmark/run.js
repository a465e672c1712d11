'use strict';
// Side-by-side benchmark of node:tls and rustls-tls (this package), with
// plain net as the ceiling. Every run forks a fresh server and client process
// (worker.js) talking over loopback; each figure is the median of the runs.
//
//   node benchmark/run.js
//
// Environment:
//   BENCH_RUNS=n        runs per row (default 3; 1 in quick mode)
//   BENCH_QUICK=1       smoke run (well under a minute): 1 run, short windows, 500 conns
//   BENCH_DURATION=s    measured seconds per run (default 1.5; 0.5 in quick mode)
//   BENCH_CONNS=n       idle connections for the memory scenario (default 2000)
//   BENCH_IMPLS=a,b     implementations to run: node, rustls (default both)
//   BENCH_ONLY=a,b      scenario ids or prefixes: bulk, reqres, handshake, memory
//   BENCH_PACKAGE=path  module to load as the package (default: the repo root)
//
// Results: results/<date>.json, results/latest.json and results/latest.svg;
// quick runs and BENCH_ONLY runs write *-quick.* and *-partial.* instead.

const { fork, spawnSync, execSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chart } = require('./chart');

const WORKER = path.join(__dirname, 'worker.js');
const FIXTURES = path.join(__dirname, 'fixtures');
const RESULTS = path.join(__dirname, 'results');
const PACKAGE = process.env.BENCH_PACKAGE || path.resolve(__dirname, '..');

const quick = process.env.BENCH_QUICK === '1';
const config = {
  quick,
  runs: Number(process.env.BENCH_RUNS) || (quick ? 1 : 3),
  duration: Number(process.env.BENCH_DURATION) || (quick ? 0.5 : 1.5),
  warmup: quick ? 0.2 : 0.4,
  conns: Number(process.env.BENCH_CONNS) || (quick ? 500 : 2000),
};

const NAMES = { node: 'node:tls', rustls: 'rustls-tls', net: 'net' };
const BASELINE = 'node/node';
const STREAM_PAIRS = ['node/node', 'rustls/rustls', 'rustls/node', 'node/rustls', 'net/net'];
const HANDSHAKE_PAIRS = ['node/node', 'rustls/node', 'rustls/rustls'];

// Pairs are server/client.
const SCENARIOS = [
  { id: 'bulk-c2s', title: 'bulk client→server, 64 KiB writes', scenario: 'bulk', opts: { dir: 'c2s', size: 65536 }, pairs: STREAM_PAIRS },
  { id: 'bulk-s2c', title: 'bulk server→client, 64 KiB writes', scenario: 'bulk', opts: { dir: 's2c', size: 65536 }, pairs: STREAM_PAIRS },
  { id: 'reqres', title: 'request/response, 1 KiB echo', scenario: 'reqres', opts: { size: 1024 }, pairs: STREAM_PAIRS },
  { id: 'reqres-1000', title: 'request/response, 1 KiB echo, 1,000 connections', scenario: 'reqresMany', opts: { size: 1024, conns: 1000 }, pairs: ['node/node', 'rustls/rustls', 'net/net'] },
  { id: 'https-keepalive', title: 'HTTPS API (node:http on each TLS), 32 keep-alive clients, ~1 KB JSON', scenario: 'https', opts: { keepAlive: true, concurrency: 32 }, pairs: ['node/node', 'rustls/rustls'] },
  { id: 'https-newconn', title: 'HTTPS API, a new connection per request, 16 concurrent', scenario: 'https', opts: { keepAlive: false, concurrency: 16 }, pairs: ['node/node', 'rustls/rustls'] },
  { id: 'handshake-ec', title: 'full handshakes, ECDSA P-256, 16 clients', scenario: 'handshake', opts: { cert: 'ec', concurrency: 16 }, pairs: HANDSHAKE_PAIRS },
  { id: 'handshake-resume', title: 'resumed handshakes (session tickets), ECDSA P-256, 16 clients', scenario: 'handshake', opts: { cert: 'ec', concurrency: 16, resume: true }, pairs: HANDSHAKE_PAIRS },
  { id: 'handshake-rsa', title: 'full handshakes, RSA 2048, 16 clients', scenario: 'handshake', opts: { cert: 'rsa', concurrency: 16 }, pairs: HANDSHAKE_PAIRS },
  { id: 'memory', title: 'idle connections, memory per connection', scenario: 'memory', opts: { concurrency: 32 }, pairs: ['node/node', 'rustls/rustls'] },
];

const log = (line) => process.stderr.write(`${line}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const lowerIsBetter = (metric) => /KiB|ms\b/.test(metric);
// Below this a baseline is noise, and a ratio to it means nothing.
const floor = (metric) => (/KiB/.test(metric) ? 0.5 : 0);

function ensureCerts() {
  if (fs.existsSync(path.join(FIXTURES, 'rsa-cert.pem'))) return;
  log('generating certificates (benchmark/gen-certs.sh)');
  execSync(`sh ${JSON.stringify(path.join(__dirname, 'gen-certs.sh'))}`, { stdio: ['ignore', 'ignore', 'inherit'] });
}

// Node raises its soft descriptor limit to the hard one at startup, so only
// the hard limit can stop the memory scenario: fit the connections under it.
function fitConnections() {
  const hard = execSync('ulimit -Hn', { shell: '/bin/sh' }).toString().trim();
  const room = hard === 'unlimited' ? Infinity : Number(hard) - 256;
  if (config.conns > room) {
    log(`ulimit -Hn is ${hard}: memory scenario uses ${room} connections instead of ${config.conns}`);
    config.conns = room;
  }
}

// Loads the package in a throwaway process, so a crash cannot take the harness down.
function probePackage() {
  const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(PACKAGE)})`], { encoding: 'utf8', timeout: 60e3 });
  if (probe.status === 0) return null;
  const lines = `${probe.stderr || ''}`.split('\n').filter((l) => /Error|error:/.test(l));
  return lines[0] || `exited with ${probe.signal || probe.status}`;
}

function runOnce(item, pair) {
  const [serverImpl, clientImpl] = pair.split('/');
  const opts = { cert: 'ec', duration: config.duration, warmup: config.warmup, conns: config.conns, ...item.opts };
  const timeoutMs = (opts.warmup + opts.duration + 10 + (item.scenario === 'memory' || item.scenario === 'reqresMany' ? opts.conns / 100 : 0)) * 1e3;
  return new Promise((resolve, reject) => {
    const children = [];
    const result = { metrics: {}, info: {} };
    let reports = 0;
    let outcome = null;
    const settle = () => {
      if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) {
        if (outcome instanceof Error) reject(outcome);
        else resolve(result);
      }
    };
    const finish = (value) => {
      if (outcome) return;
      outcome = value;
      clearTimeout(timer);
      for (const c of children) c.kill('SIGKILL');
      settle();
    };
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs / 1e3} s`)), timeoutMs);
    const spawn = (impl, role) => {
      const child = fork(WORKER, [impl, role], { execArgv: ['--expose-gc'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      const who = `${NAMES[impl]} ${role}`;
      children.push(child);
      child.on('error', (err) => finish(new Error(`${who}: ${err.message}`)));
      child.on('exit', (code, signal) => {
        finish(new Error(`${who} exited (${signal || code})`));
        settle();
      });
      child.on('message', (msg) => {
        if (outcome) return;
        if (msg.type === 'ready') {
          spawn(clientImpl, 'client').send({ cmd: 'start', scenario: item.scenario, opts, port: msg.port });
        } else if (msg.type === 'mark') {
          for (const c of children) if (c !== child) c.send({ cmd: 'mark' });
        } else if (msg.type === 'done') {
          Object.assign(result.metrics, msg.metrics);
          result.info = msg.info || {};
          for (const c of children) c.send({ cmd: 'report' });
        } else if (msg.type === 'report') {
          Object.assign(result.metrics, msg.metrics);
          if (++reports === children.length) finish(true);
        } else if (msg.type === 'fail') {
          finish(new Error(`${who}: ${msg.error.split('\n')[0].replace(/^Error: /, '')}`));
        }
      });
      return child;
    };
    spawn(serverImpl, 'server').send({ cmd: 'start', scenario: item.scenario, opts });
  });
}

async function runScenario(item, impls) {
  const pairs = item.pairs.filter((p) => p.split('/').every((i) => i === 'net' || impls.includes(i)));
  const rows = pairs.map((pair) => ({ pair, runs: [], info: {}, errors: [] }));
  for (let run = 0; run < config.runs; run++) {
    // Rotate the order each run so no pair always goes first.
    for (const row of [...rows.slice(run % rows.length), ...rows.slice(0, run % rows.length)]) {
      if (row.errors.some((e) => e.includes('timed out'))) continue;
      log(`  ${item.id} ${row.pair} run ${run + 1}/${config.runs}`);
      try {
        const { metrics, info } = await runOnce(item, row.pair);
        row.runs.push(metrics);
        row.info = info;
      } catch (err) {
        row.errors.push(err.message);
        log(`    failed: ${err.message}`);
      }
    }
  }
  const results = [];
  for (const row of rows) {
    const [server, client] = row.pair.split('/');
    const metrics = [...new Set(row.runs.flatMap(Object.keys))];
    if (!metrics.length) results.push({ id: item.id, title: item.title, server, client, metric: null, error: row.errors[0] });
    for (const metric of metrics) {
      const values = row.runs.map((m) => m[metric]).filter(Number.isFinite);
      results.push({
        id: item.id, title: item.title, server, client, metric,
        better: lowerIsBetter(metric) ? 'lower' : 'higher',
        median: values.length ? median(values) : null, runs: values, info: row.info,
        ...(row.errors.length ? { errors: row.errors } : {}),
      });
    }
  }
  for (const r of results) {
    const base = results.find((b) => `${b.server}/${b.client}` === BASELINE && b.metric === r.metric);
    const meaningful = base && r.median !== null && base.median > floor(r.metric);
    r.ratio = meaningful ? r.median / base.median : null;
  }
  return results;
}

function format(value) {
  if (!Number.isFinite(value)) return '-';
  if (Math.abs(value) < 0.005) return '0.00';
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function table(results) {
  const head = ['scenario', 'server', 'client', 'metric', 'median', 'spread', 'vs node:tls'];
  const lines = results.map((r) => {
    if (!r.metric) return [r.id, NAMES[r.server], NAMES[r.client], 'failed (below)', '', '', ''];
    const failed = r.errors ? `${r.runs.length}/${r.runs.length + r.errors.length} ok` : '';
    const spread = failed || (r.runs.length > 1 ? `±${format(((Math.max(...r.runs) - Math.min(...r.runs)) / 2 / r.median) * 100)}%` : '');
    const mark = r.better === 'lower' ? ' ↓' : '';
    return [r.id, NAMES[r.server], NAMES[r.client], r.metric + mark, format(r.median), spread, r.ratio === null ? '' : `${r.ratio.toFixed(2)}×`];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const numeric = new Set([4, 5, 6]);
  const render = (cells) => cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [render(head), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(render)].join('\n');
}

// What each pair negotiated (the client's view, which names the key
// exchange group), then every failure.
function notes(results) {
  const seen = new Map();
  const failures = new Set();
  const reuse = new Set();
  for (const r of results) {
    const { protocol, cipher, group, errors, resumed } = r.info || {};
    const pair = `${NAMES[r.server]} → ${NAMES[r.client]}`;
    if (resumed) reuse.add(`${r.id} ${pair}: ${resumed} of the handshakes resumed a session`);
    if (protocol && (group || !seen.has(pair))) seen.set(pair, `${pair}: ${[protocol, cipher, group].filter(Boolean).join(' ')}`);
    if (errors) failures.add(`${r.id} ${pair}: ${errors} failed handshakes`);
    for (const e of [r.error, ...(r.errors || [])].filter(Boolean)) failures.add(`${r.id} ${pair}: ${e}`);
  }
  return [...seen.values(), ...reuse, ...[...failures].map((f) => `failed: ${f}`)].join('\n');
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus.length ? cpus[0].model.trim() : 'unknown',
    cores: cpus.length,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  };
}

async function main() {
  ensureCerts();
  fitConnections();
  let impls = (process.env.BENCH_IMPLS || 'node,rustls').split(',').map((s) => s.trim());
  let packageError = null;
  if (impls.includes('rustls')) {
    packageError = probePackage();
    if (packageError) {
      log(`rustls-tls did not load (${PACKAGE}): ${packageError}`);
      log('running node:tls and net only');
      impls = impls.filter((i) => i !== 'rustls');
    }
  }
  const only = (process.env.BENCH_ONLY || '').split(',').filter(Boolean);
  const selected = SCENARIOS.filter((s) => !only.length || only.some((o) => s.id.startsWith(o)));

  const started = Date.now();
  const load = os.loadavg()[0];
  if (load > os.cpus().length / 2) log(`load average is ${load.toFixed(2)}: other work on this machine will skew the figures`);
  const results = [];
  for (const item of selected) {
    log(`${item.title}`);
    results.push(...(await runScenario(item, impls)));
  }
  const report = {
    date: new Date().toISOString(),
    machine: { ...machine(), loadAtStart: Number(load.toFixed(2)) },
    node: process.version,
    config,
    impls,
    package: { path: PACKAGE, loaded: impls.includes('rustls'), error: packageError },
    seconds: Math.round((Date.now() - started) / 1e3),
    notes: [
      'Pairs are server/client. Figures are medians over the runs; ratio = figure / node:tls-on-both-ends figure.',
      'Metrics in KiB and ms are better when lower. Server CPU is the whole process (all threads) per handshake.',
      `Event-loop delay is monitorEventLoopDelay({resolution: 1}) less the 1 ms sampling interval, over the measured window.`,
      'Memory is the per-connection growth over a baseline taken after gc, before the first connection.',
    ],
    results,
  };

  console.log(`\n${table(results)}\n`);
  console.log(notes(results));
  if (!report.package.loaded) console.log(`rustls-tls not measured${packageError ? `: ${packageError}` : ' (BENCH_IMPLS)'}`);
  console.log(`${report.machine.cpu} × ${report.machine.cores}, Node ${report.node}, ${report.seconds} s`);

  const tag = quick ? 'quick' : only.length ? 'partial' : '';
  const suffix = tag && `-${tag}`;
  fs.mkdirSync(RESULTS, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  fs.writeFileSync(path.join(RESULTS, `${report.date.slice(0, 10)}${suffix}.json`), json);
  fs.writeFileSync(path.join(RESULTS, `latest${suffix}.json`), json);
  fs.writeFileSync(path.join(RESULTS, `latest${suffix}.svg`), chart(report));
  console.log(`wrote benchmark/results/latest${suffix}.json and latest${suffix}.svg`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
