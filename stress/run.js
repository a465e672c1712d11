'use strict';
// Load and memory bounds of rustls-tls, each figure beside node:tls's from the
// same run (`npm run stress`). Every scenario forks a fresh server process and
// fresh client processes (worker.js); see STRESS.md for what each one shows.
//
// Environment (defaults are the issue's sizes):
//   STRESS_CONNS=10000        connections held at once (hold)
//   STRESS_BURSTS=5           bursts of held connections, all closed after each
//   STRESS_BURST_CONNS=2000   connections per burst
//   STRESS_CHURN=100000       short connections in the churn scenario
//   STRESS_PHASES=10          churn phases (RSS taken after each)
//   STRESS_BYTES=268435456    bytes offered to a peer that never reads (256 MiB)
//   STRESS_FLOOD=2000         stalled handshakes kept open during the flood
//   STRESS_FLOOD_SECONDS=5    good clients' window, without and with the flood
//   STRESS_HANDSHAKE_TIMEOUT=3000  the flood server's handshakeTimeout (ms)
//   STRESS_P99_MS=1000        bound on the good clients' p99 handshake time in the flood
//   STRESS_IMPLS=node,rustls  implementations (node alone checks the harness)
//   STRESS_ONLY=a,b           scenarios: hold, bursts, churn, slow-reader, slow-writer, flood
//   STRESS_PACKAGE=path       module loaded as the package (default: the repo root)
//   STRESS_TIMEOUT=1800       seconds after which one implementation's scenario is a hang
// Exit status 1 when this package breaks a bound (see bounds() and STRESS.md);
// node:tls is held to the same bounds, but only reported.

const { fork } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');

const WORKER = path.join(__dirname, 'worker.js');
const env = (name, fallback) => (process.env[name] === undefined ? fallback : Number(process.env[name]));
const config = {
  conns: env('STRESS_CONNS', 10000),
  bursts: env('STRESS_BURSTS', 5),
  burstConns: env('STRESS_BURST_CONNS', 2000),
  churn: env('STRESS_CHURN', 100000),
  phases: env('STRESS_PHASES', 10),
  bytes: env('STRESS_BYTES', 256 * 1024 * 1024),
  flood: env('STRESS_FLOOD', 2000),
  floodSeconds: env('STRESS_FLOOD_SECONDS', 5),
  handshakeTimeout: env('STRESS_HANDSHAKE_TIMEOUT', 3000),
  p99: env('STRESS_P99_MS', 1000),
  timeout: env('STRESS_TIMEOUT', 1800),
};
const IMPLS = (process.env.STRESS_IMPLS || 'node,rustls').split(',');
const ONLY = process.env.STRESS_ONLY ? process.env.STRESS_ONLY.split(',') : null;
const NAMES = { node: 'node:tls', rustls: 'rustls-tls' };
const MiB = 1024 * 1024;
/** Peak RSS growth allowed while a peer never reads. */
const STALL_BOUND = 64 * MiB;
/** RSS growth allowed over the second half of the churn (fitted line). */
const CHURN_BOUND = 8 * MiB;

const log = (line) => process.stdout.write(`${line}\n`);
const mib = (bytes) => (Number.isFinite(bytes) ? `${(bytes / MiB).toFixed(1)} MiB` : '-');
const ms = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : '-');

// ---------------------------------------------------------------- processes

/** A forked worker; call(cmd, args) resolves with its answer. */
function spawn(impl, role) {
  const child = fork(WORKER, [impl, role], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map();
  let next = 1;
  let up;
  const ready = new Promise((resolve) => { up = resolve; });
  const failAll = (error) => {
    for (const { reject } of waiting.values()) reject(new Error(error));
    waiting.clear();
  };
  child.on('message', ({ id, result, error }) => {
    if (id === 0) return up();
    if (id === -1) return failAll(error);
    const w = waiting.get(id);
    waiting.delete(id);
    if (!w) return;
    if (error) w.reject(new Error(`${impl} ${role}: ${error}`));
    else w.resolve(result);
  });
  child.on('exit', (code, signal) => failAll(`${impl} ${role} exited (${signal || code})`));
  child.on('error', (err) => failAll(`${impl} ${role}: ${err.message}`));
  return {
    ready,
    call(cmd, args) {
      const id = next++;
      return new Promise((resolve, reject) => {
        if (!child.connected) return reject(new Error(`${impl} ${role} is gone`));
        waiting.set(id, { resolve, reject });
        child.send({ id, cmd, args }, (err) => {
          if (err && waiting.delete(id)) reject(err);
        });
      });
    },
    kill() {
      child.kill();
    },
  };
}

/**
 * Runs body(procs) with fresh processes for `roles`, killed afterwards; a
 * scenario that has not finished after STRESS_TIMEOUT seconds is a hang.
 */
async function withProcs(impl, roles, body) {
  const procs = {};
  for (const role of roles) procs[role] = spawn(impl, role);
  let timer;
  const hang = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no result after ${config.timeout} s (a hang)`)), config.timeout * 1e3);
  });
  try {
    await Promise.race([Promise.all(Object.values(procs).map((p) => p.ready)), hang]);
    return await Promise.race([body(procs), hang]);
  } finally {
    clearTimeout(timer);
    for (const p of Object.values(procs)) p.kill();
  }
}

// ---------------------------------------------------------------- scenarios

// Node raises its soft descriptor limit to the hard one; each side of the
// hold scenario needs one descriptor per connection plus a margin.
function descriptorLimit() {
  try {
    const limits = require('node:fs').readFileSync('/proc/self/limits', 'utf8');
    const m = /Max open files\s+\d+\s+(\d+|unlimited)/.exec(limits);
    return m && m[1] !== 'unlimited' ? Number(m[1]) : Infinity;
  } catch {
    return Infinity;
  }
}

const SCENARIOS = {
  async hold(impl) {
    const limit = descriptorLimit();
    const n = Math.min(config.conns, limit - 256);
    const note = n < config.conns ? `only ${n}: the hard limit on open files is ${limit} (raise it with ulimit -Hn)` : '';
    return withProcs(impl, ['server', 'client'], async ({ server, client }) => {
      const { port } = await server.call('listen', { mode: 'echo' });
      const before = await server.call('memory');
      const c = await client.call('hold', { port, n, concurrency: 256 });
      const after = await server.call('memory');
      const stats = await server.call('stats');
      await client.call('releaseAll');
      // Every connection must close on the server too, and give back its memory.
      let left = stats.open;
      for (let waited = 0; left > 0 && waited < 20e3; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        left = (await server.call('stats')).open;
      }
      const closed = await server.call('memory');
      return {
        left,
        kept: closed.rss - before.rss,
        keptNative: closed.native - before.native,
        n,
        note,
        served: c.served,
        errors: c.errors,
        firstError: c.firstError,
        open: stats.open,
        serverPerConn: (after.rss - before.rss) / n,
        clientPerConn: (c.after.rss - c.before.rss) / n,
        p50: c.handshake.p50,
        p99: c.handshake.p99,
        rate: n / c.seconds,
      };
    });
  },

  async bursts(impl) {
    return withProcs(impl, ['server', 'client'], async ({ server, client }) => {
      const { port } = await server.call('listen', { mode: 'echo' });
      const base = (await server.call('memory')).rss;
      const held = [];
      const closed = [];
      let served = 0;
      let left = 0;
      for (let burst = 0; burst < config.bursts; burst++) {
        const c = await client.call('hold', { port, n: config.burstConns, concurrency: 128 });
        served += c.served;
        held.push((await server.call('memory')).rss - base);
        await client.call('releaseAll');
        left = (await server.call('stats')).open;
        for (let waited = 0; left > 0 && waited < 20e3; waited += 100) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          left = (await server.call('stats')).open;
        }
        closed.push((await server.call('memory')).rss - base);
      }
      const half = closed.slice(Math.floor(closed.length / 2));
      return {
        n: config.bursts * config.burstConns,
        served,
        left,
        held,
        closed,
        first: closed[0],
        final: closed[closed.length - 1],
        growth: slope(half) * (half.length - 1),
      };
    });
  },

  async churn(impl) {
    const per = Math.ceil(config.churn / config.phases);
    return withProcs(impl, ['server', 'client'], async ({ server, client }) => {
      const { port } = await server.call('listen', { mode: 'echo' });
      const start = await server.call('memory');
      const base = start.rss;
      const rss = [];
      const native = [];
      const young = [];
      let served = 0;
      let errors = 0;
      let firstError;
      let seconds = 0;
      for (let phase = 0; phase < config.phases; phase++) {
        const c = await client.call('churn', { port, n: per, concurrency: 64 });
        served += c.served;
        errors += c.errors;
        firstError ||= c.firstError;
        seconds += c.seconds;
        const m = await server.call('memory');
        rss.push(m.rss);
        native.push(m.native);
        young.push(m.young);
        process.stdout.write(`  ${NAMES[impl]} churn phase ${phase + 1}/${config.phases}: ${mib(rss[phase] - base)} over baseline\r`);
      }
      process.stdout.write('\n');
      const half = rss.slice(Math.floor(rss.length / 2));
      const nativeHalf = native.slice(Math.floor(native.length / 2));
      return {
        n: per * config.phases,
        served,
        errors,
        firstError,
        rate: (per * config.phases) / seconds,
        phases: rss.map((r) => r - base),
        native: native.map((r) => r - start.native),
        young: young.map((r) => r - start.young),
        final: rss[rss.length - 1] - base,
        swing: Math.max(...half) - Math.min(...half),
        nativeSwing: Math.max(...nativeHalf) - Math.min(...nativeHalf),
        step: Math.max(...rss.slice(1).map((r, i) => Math.abs(r - rss[i]))),
        growth: slope(half) * (half.length - 1),
      };
    });
  },

  async 'slow-reader'(impl) {
    return withProcs(impl, ['server', 'client'], async ({ server, client }) => {
      const { port } = await server.call('listen', { mode: 'pump', total: config.bytes });
      const before = await server.call('memory');
      await server.call('startPeak');
      await client.call('neverRead', { port });
      // Long enough for the pump to fill every buffer on the way and stall.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const { peak } = await server.call('stopPeak');
      const reader = await client.call('readerPeak');
      const stats = await server.call('stats');
      return {
        accepted: stats.pump.accepted,
        stalled: stats.pump.waitingDrain === 1,
        growth: peak - before.rss,
        readerGrowth: reader.growth,
        readerBuffered: reader.buffered,
      };
    });
  },

  async 'slow-writer'(impl) {
    return withProcs(impl, ['server', 'client'], async ({ server, client }) => {
      const { port } = await server.call('listen', { mode: 'sink' });
      const before = await server.call('memory');
      await server.call('startPeak');
      const c = await client.call('pushToSink', { port, total: config.bytes, stallMs: 3000 });
      const { peak } = await server.call('stopPeak');
      return {
        accepted: c.accepted,
        stalled: c.stalled,
        growth: c.peak - c.before.rss,
        serverGrowth: peak - before.rss,
      };
    });
  },

  async flood(impl) {
    return withProcs(impl, ['server', 'client', 'flood'], async ({ server, client, flood }) => {
      const { port } = await server.call('listen', { mode: 'echo', handshakeTimeout: config.handshakeTimeout });
      const args = { port, seconds: config.floodSeconds, concurrency: 4 };
      const quiet = await client.call('good', args);
      const before = await server.call('memory');
      await server.call('startPeak');
      await flood.call('start', { port, count: config.flood });
      const busy = await client.call('good', args);
      // Let every stalled handshake outlive handshakeTimeout at least once.
      const extra = Math.max(0, config.handshakeTimeout + 1000 - config.floodSeconds * 1000);
      await new Promise((resolve) => setTimeout(resolve, extra));
      const f = await flood.call('stop');
      const { peak } = await server.call('stopPeak');
      const stats = await server.call('stats');
      return {
        quiet: quiet.handshake,
        busy: busy.handshake,
        errors: quiet.errors + busy.errors,
        firstError: quiet.firstError || busy.firstError,
        floodOpened: f.opened,
        timeouts: stats.clientErrors.ERR_TLS_HANDSHAKE_TIMEOUT || 0,
        clientErrors: stats.clientErrors,
        lifetime: f.lifetime,
        growth: peak - before.rss,
      };
    });
  },
};

/** Least-squares slope of ys against their index. */
function slope(ys) {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => { num += (x - mx) * (y - my); den += (x - mx) ** 2; });
  return num / den;
}

// ---------------------------------------------------------------- figures

/** For each scenario: the figures shown (label, pick, format, lower is better) and its bounds. */
const FIGURES = {
  hold: [
    ['server RSS/conn', (r) => r.serverPerConn, (x) => `${(x / 1024).toFixed(1)} KiB`],
    ['client RSS/conn', (r) => r.clientPerConn, (x) => `${(x / 1024).toFixed(1)} KiB`],
    ['server RSS kept after all closed', (r) => r.kept, mib],
    ['of which outside V8 heap', (r) => r.keptNative, mib],
    ['handshake p99', (r) => r.p99, ms],
    ['handshakes/s', (r) => r.rate, (x) => x.toFixed(0)],
  ],
  bursts: [
    ['server RSS after 1st burst closed', (r) => r.first, mib],
    ['server RSS after last burst closed', (r) => r.final, mib],
    ['RSS growth, 2nd half (fitted)', (r) => r.growth, mib],
  ],
  churn: [
    ['RSS growth, 2nd half (fitted)', (r) => r.growth, mib],
    ['RSS swing, 2nd half', (r) => r.swing, mib],
    ['swing outside V8 heap, 2nd half', (r) => r.nativeSwing, mib],
    ['largest step between phases', (r) => r.step, mib],
    ['RSS after last phase', (r) => r.final, mib],
    ['of which V8 young generation', (r) => r.young[r.young.length - 1], mib],
    ['conns/s', (r) => r.rate, (x) => x.toFixed(0)],
  ],
  'slow-reader': [
    ['server peak RSS growth', (r) => r.growth, mib],
    ['write() accepted', (r) => r.accepted, mib],
    ['reader (client) peak RSS growth', (r) => r.readerGrowth, mib],
    ['reader readableLength', (r) => r.readerBuffered, mib],
  ],
  'slow-writer': [
    ['client peak RSS growth', (r) => r.growth, mib],
    ['write() accepted', (r) => r.accepted, mib],
    ['server peak RSS growth', (r) => r.serverGrowth, mib],
  ],
  flood: [
    ['good p99, quiet', (r) => r.quiet.p99, ms],
    ['good p99, flood', (r) => r.busy.p99, ms],
    ['good p50, flood', (r) => r.busy.p50, ms],
    ['stalled conn lifetime p50', (r) => r.lifetime.p50, ms],
    ['handshake timeouts', (r) => r.timeouts, (x) => String(x)],
    ['server peak RSS growth', (r) => r.growth, mib],
  ],
};

function bounds(id, r) {
  const broken = [];
  if (id === 'hold') {
    if (r.served !== r.n) broken.push(`${r.served} of ${r.n} connections served (${r.errors} errors, first ${r.firstError})`);
    if (r.open !== r.n) broken.push(`the server held ${r.open} of ${r.n} connections`);
    if (r.left !== 0) broken.push(`${r.left} connections still open on the server 20 s after the client closed them all`);
  } else if (id === 'bursts') {
    if (r.served !== r.n) broken.push(`${r.served} of ${r.n} connections served`);
    if (r.left !== 0) broken.push(`${r.left} connections still open on the server 20 s after the client closed them all`);
    if (r.growth > CHURN_BOUND) broken.push(`RSS still growing: ${mib(r.growth)} over the second half (bound ${mib(CHURN_BOUND)})`);
  } else if (id === 'churn') {
    if (r.served !== r.n) broken.push(`${r.served} of ${r.n} connections served (${r.errors} errors, first ${r.firstError})`);
    if (r.growth > CHURN_BOUND) broken.push(`RSS still growing: ${mib(r.growth)} over the second half (bound ${mib(CHURN_BOUND)})`);
  } else if (id === 'slow-reader' || id === 'slow-writer') {
    if (!r.stalled) broken.push(`the writer was never held back (write() accepted ${mib(r.accepted)})`);
    if (r.growth > STALL_BOUND) broken.push(`peak RSS growth ${mib(r.growth)} (bound ${mib(STALL_BOUND)})`);
    if (r.serverGrowth > STALL_BOUND) broken.push(`the reader's (server's) peak RSS growth ${mib(r.serverGrowth)} (bound ${mib(STALL_BOUND)})`);
    if (r.readerGrowth > STALL_BOUND) broken.push(`the reader's peak RSS growth ${mib(r.readerGrowth)} (bound ${mib(STALL_BOUND)})`);
  } else if (id === 'flood') {
    if (r.errors) broken.push(`${r.errors} good clients failed (first ${r.firstError})`);
    if (!(r.busy.p99 <= config.p99)) broken.push(`good p99 ${ms(r.busy.p99)} during the flood (bound ${config.p99} ms)`);
    if (r.timeouts === 0) broken.push('no handshake timed out');
    const t = config.handshakeTimeout;
    if (!(r.lifetime.p50 >= t * 0.9 && r.lifetime.p50 <= t * 1.5 + 500)) broken.push(`stalled connections lived ${ms(r.lifetime.p50)} (p50), handshakeTimeout is ${t} ms`);
  }
  return broken;
}

// ---------------------------------------------------------------- main

async function main() {
  log(`rustls-tls stress: ${os.cpus().length} × ${os.cpus()[0].model}, Node ${process.version}, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  log(`sizes: ${JSON.stringify(config)}`);
  const rows = [];
  let failed = false;
  for (const id of Object.keys(SCENARIOS)) {
    if (ONLY && !ONLY.includes(id)) continue;
    const results = {};
    for (const impl of IMPLS) {
      const t0 = Date.now();
      try {
        results[impl] = await SCENARIOS[id](impl);
        results[impl].broken = bounds(id, results[impl]);
      } catch (err) {
        results[impl] = { broken: [`run failed: ${err.message.split('\n')[0]}`] };
      }
      log(`  ${id} ${NAMES[impl]}: ${((Date.now() - t0) / 1e3).toFixed(1)} s${results[impl].note ? ` (${results[impl].note})` : ''}`);
      if (process.env.STRESS_VERBOSE) log(JSON.stringify(results[impl]));
    }
    for (const [label, pick, format] of FIGURES[id]) {
      const vals = IMPLS.map((impl) => (results[impl].broken.some((b) => b.startsWith('run failed')) ? undefined : pick(results[impl])));
      const ratio = vals.length === 2 && vals.every((v) => Number.isFinite(v) && v > 0) ? vals[1] / vals[0] : undefined;
      const shown = vals.map((v, i) => `${NAMES[IMPLS[i]]} ${v === undefined ? '-' : format(v)}`).join(', ');
      log(`${id}: ${label}: ${shown}${ratio === undefined ? '' : `, ratio ${ratio.toFixed(2)}`}`);
      rows.push({ id, label, vals: vals.map((v) => (v === undefined ? '-' : format(v))), ratio });
    }
    if (id === 'bursts') {
      for (const impl of IMPLS) {
        if (results[impl].closed) log(`bursts: ${NAMES[impl]} server RSS over baseline, held / after close, per burst: ${results[impl].held.map((h, i) => `${(h / MiB).toFixed(1)}/${(results[impl].closed[i] / MiB).toFixed(1)}`).join(' ')} MiB`);
      }
    }
    if (id === 'churn') {
      for (const impl of IMPLS) {
        if (!results[impl].phases) continue;
        log(`churn: ${NAMES[impl]} RSS over baseline after each phase: ${results[impl].phases.map((x) => (x / MiB).toFixed(1)).join(' ')} MiB`);
        log(`churn: ${NAMES[impl]} of which V8's young generation: ${results[impl].young.map((x) => (x / MiB).toFixed(1)).join(' ')} MiB`);
        log(`churn: ${NAMES[impl]} of which outside V8's heap: ${results[impl].native.map((x) => (x / MiB).toFixed(1)).join(' ')} MiB`);
      }
    }
    for (const impl of IMPLS) {
      for (const b of results[impl].broken) {
        if (impl === 'node') {
          log(`${id}: node:tls breaks a bound (reported, not failed): ${b}`);
        } else {
          failed = true;
          log(`${id}: BOUND BROKEN (${NAMES[impl]}): ${b}`);
        }
      }
    }
  }
  log('');
  log(`| scenario | figure | ${IMPLS.map((i) => NAMES[i]).join(' | ')} | ratio |`);
  log(`| --- | --- | ${IMPLS.map(() => '---:').join(' | ')} | ---: |`);
  for (const r of rows) log(`| ${r.id} | ${r.label} | ${r.vals.join(' | ')} | ${r.ratio === undefined ? '' : r.ratio.toFixed(2)} |`);
  log('');
  log(failed ? 'stress: a bound was broken (see above)' : 'stress: every bound held');
  process.exitCode = failed ? 1 : 0;
}

main();
