'use strict';
// rustls-tls/register, as a user runs it: an application folder whose
// node_modules holds the package (a link to this repository) and two
// dependencies that use `tls` themselves, one CommonJS and one ESM. Each
// run is a child process started with --require, --import or NODE_OPTIONS;
// the application prints what it saw as JSON.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ROOT, FIXTURES } = require('./helpers');

let app;

const files = {
  // A CommonJS dependency: both spellings, and process.getBuiltinModule where Node has it.
  'node_modules/cjs-dep/package.json': JSON.stringify({ name: 'cjs-dep', main: 'index.js' }),
  'node_modules/cjs-dep/index.js': `
    exports.tls = require('tls');
    exports.nodeTls = require('node:tls');
    exports.builtin = typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule('node:tls') : null;
  `,
  // An ESM dependency: default and named imports of both spellings.
  'node_modules/esm-dep/package.json': JSON.stringify({ name: 'esm-dep', type: 'module', exports: './index.js' }),
  'node_modules/esm-dep/index.js': `
    import tls, { connect, TLSSocket } from 'node:tls';
    import tls2, * as ns from 'tls';
    export default { tls, connect, TLSSocket, tls2, nsConnect: ns.connect };
  `,
  // What the application checks, shared by its CJS and ESM entries.
  'check.cjs': `
    const path = require('node:path');
    const fs = require('node:fs');
    module.exports = async function check(esmDep) {
      const pkg = require('rustls-tls');
      const cjsDep = require('cjs-dep');
      const tls = require('tls');
      const fx = (n) => fs.readFileSync(path.join(${JSON.stringify(FIXTURES)}, n));
      const out = {
        requireTls: tls === pkg,
        requireNodeTls: require('node:tls') === pkg,
        cjsDep: cjsDep.tls === pkg && cjsDep.nodeTls === pkg,
        builtin: cjsDep.builtin === null || cjsDep.builtin === pkg,
        esmDefault: esmDep.tls === pkg && esmDep.tls2 === pkg,
        esmNamed: esmDep.connect === pkg.connect && esmDep.TLSSocket === pkg.TLSSocket && esmDep.nsConnect === pkg.connect,
        packageRealPath: require.resolve('rustls-tls') === ${JSON.stringify(path.join(ROOT, 'index.js'))},
      };
      // A connection made through the redirected module is this package's.
      const server = tls.createServer({ key: fx('rsa-key.pem'), cert: fx('rsa-cert.pem') }, (s) => s.end('hi'));
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const { port } = server.address();
      const got = await new Promise((resolve, reject) => {
        const c = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: fx('ca-cert.pem') });
        let data = '';
        c.setEncoding('utf8');
        c.on('data', (d) => (data += d));
        c.on('end', () => resolve({ data, ours: c instanceof pkg.TLSSocket, authorized: c.authorized }));
        c.on('error', reject);
      });
      out.connection = got;
      // Node's own https keeps Node's TLS (its socket is not this package's).
      out.nodeHttps = await new Promise((resolve, reject) => {
        const srv = require('node:https').createServer({ key: fx('rsa-key.pem'), cert: fx('rsa-cert.pem') },
          (req, res) => res.end('ok'));
        srv.listen(0, '127.0.0.1', () => {
          const req = require('node:https').get({ port: srv.address().port, host: '127.0.0.1',
            servername: 'localhost', ca: fx('ca-cert.pem'), agent: false }, (res) => {
            const ours = req.socket instanceof pkg.TLSSocket;
            res.resume();
            res.on('end', () => srv.close(() => resolve({ status: res.statusCode, ours })));
          });
          req.on('error', reject);
        });
      });
      // A worker thread inherits the flags: it gets the package too.
      const { Worker } = require('node:worker_threads');
      out.worker = await new Promise((resolve, reject) => {
        const w = new Worker(path.join(__dirname, 'worker.cjs'));
        w.once('message', resolve);
        w.once('error', reject);
      });
      server.close();
      return out;
    };
  `,
  // (A worker file: Node runs --import preloads for those, not for eval workers.)
  'worker.cjs': `
    require('node:worker_threads').parentPort.postMessage(
      require('tls') === require('rustls-tls') && typeof require('tls').createServer === 'function');
  `,
  'app.cjs': `
    (async () => {
      const esmDep = (await import('esm-dep')).default;
      console.log(JSON.stringify(await require('./check.cjs')(esmDep)));
    })().catch((e) => { console.error(e); process.exit(1); });
  `,
  // Registered by the entry point itself, before anything loads tls.
  'app-inline.cjs': `
    require('rustls-tls/register');
    require('./app.cjs');
  `,
  'app.mjs': `
    import esmDep from 'esm-dep';
    import tls, { connect, createServer, rootCertificates } from 'node:tls';
    import { createRequire } from 'node:module';
    const require = createRequire(import.meta.url);
    const out = await require('./check.cjs')(esmDep);
    const pkg = require('rustls-tls');
    out.appImport = tls === pkg && connect === pkg.connect && createServer === pkg.createServer &&
      rootCertificates.length === pkg.rootCertificates.length;
    console.log(JSON.stringify(out));
  `,
};

const expected = {
  requireTls: true,
  requireNodeTls: true,
  cjsDep: true,
  builtin: true,
  esmDefault: true,
  esmNamed: true,
  packageRealPath: true,
  connection: { data: 'hi', ours: true, authorized: true },
  nodeHttps: { status: 200, ours: false },
  worker: true,
};

before(() => {
  app = fs.mkdtempSync(path.join(os.tmpdir(), 'rustls-tls-register-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(app, name)), { recursive: true });
    fs.writeFileSync(path.join(app, name), text);
  }
  fs.symlinkSync(ROOT, path.join(app, 'node_modules', 'rustls-tls'), 'dir');
});

after(() => {
  if (app) fs.rmSync(app, { recursive: true, force: true });
});

function runApp(args, env = {}) {
  const r = spawnSync(process.execPath, args, {
    cwd: app,
    encoding: 'utf8',
    timeout: 30000,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
  });
  assert.equal(r.status, 0, `exit ${r.status} ${r.signal || ''}\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const runs = [
  ['--require rustls-tls/register, CommonJS app', ['--require', 'rustls-tls/register', 'app.cjs']],
  ['--import rustls-tls/register, ESM app', ['--import', 'rustls-tls/register', 'app.mjs']],
  ['--require rustls-tls/register, ESM app', ['--require', 'rustls-tls/register', 'app.mjs']],
  ['--import rustls-tls/register, CommonJS app', ['--import', 'rustls-tls/register', 'app.cjs']],
  ['NODE_OPTIONS=--import rustls-tls/register', ['app.mjs'], { NODE_OPTIONS: '--import rustls-tls/register' }],
  ['NODE_OPTIONS=--require rustls-tls/register', ['app.cjs'], { NODE_OPTIONS: '--require rustls-tls/register' }],
  // A worker thread starts afresh: registered at run time, it is not registered there.
  ["require('rustls-tls/register') as the entry point's first line", ['app-inline.cjs'], {}, { worker: false }],
];

for (const [name, args, env, differences] of runs) {
  test(`${name}: tls and node:tls are the package everywhere outside it`, { timeout: 40000 }, () => {
    const out = runApp(args, env);
    const want = { ...expected, ...differences };
    if (args[args.length - 1] === 'app.mjs') want.appImport = true;
    assert.deepEqual(out, want);
  });
}

test('without register, tls is Node\'s own (the baseline the runs above differ from)', { timeout: 40000 }, () => {
  const r = spawnSync(process.execPath, ['-e', `
    const tls = require('tls');
    console.log(JSON.stringify([tls === require('rustls-tls'), tls === require('cjs-dep').tls]));
  `], { cwd: app, encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [false, true]);
});

test("the package's own files keep node:tls (index.js reuses Node's checkServerIdentity)", { timeout: 40000 }, () => {
  const r = spawnSync(process.execPath, ['--require', 'rustls-tls/register', '-e', `
    const pkg = require('rustls-tls');
    // Node's checkServerIdentity as a function with Node's own error shape.
    const err = pkg.checkServerIdentity('a.example', { subject: { CN: 'b.example' } });
    console.log(JSON.stringify([pkg.checkServerIdentity.name, err.code, typeof pkg.connect]));
  `], { cwd: app, encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), ['checkServerIdentity', 'ERR_TLS_CERT_ALTNAME_INVALID', 'function']);
});
