// An unchanged ESM application whose database driver is loaded as ESM and
// imports `tls` itself: porsager's `postgres` (src/, `import tls from 'tls'`)
// or the `mariadb` connector (lib/, `import tls from 'node:tls'`). Run it
// with `node --import rustls-tls/register` and those imports get the
// package. It prints one JSON line with what it saw.
//
//   DRIVER=postgres|mariadb DB_PORT=... FIXTURES=... CHECK_PACKAGE=... node esm-db-app.mjs

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import tls from 'node:tls';
import process from 'node:process';
import { Console } from 'node:console';

const console = new Console(process.stdout, process.stderr);

const require = createRequire(import.meta.url);
const fx = (name) => fs.readFileSync(path.join(process.env.FIXTURES, name));
const port = Number(process.env.DB_PORT);
const ssl = { ca: fx('ca-cert.pem'), servername: 'localhost' };

// The same module object the driver's import gets (node:tls, or the
// package under register): its connect() is watched.
const made = [];
const connect = tls.connect;
tls.connect = function watchedConnect(...args) {
  const socket = connect.apply(this, args);
  made.push(socket);
  return socket;
};

async function postgresApp() {
  const { default: postgres } = await import('postgres');
  const sql = postgres({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', ssl, max: 1, onnotice: () => {} });
  try {
    const [row] = await sql`select ssl, version from pg_stat_ssl where pid = pg_backend_pid()`;
    return { ...row };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function mariadbApp() {
  const { default: mariadb } = await import('mariadb');
  const conn = await mariadb.createConnection({ host: '127.0.0.1', port, user: 'tls', password: 'tls-pw', database: 't', ssl });
  try {
    const [row] = await conn.query("SHOW SESSION STATUS LIKE 'Ssl_version'");
    return { ssl: true, version: row.Value };
  } finally {
    await conn.end();
  }
}

const out = await (process.env.DRIVER === 'postgres' ? postgresApp() : mariadbApp());
const pkg = process.env.CHECK_PACKAGE ? require(process.env.CHECK_PACKAGE) : null;
out.sockets = made.length;
out.isPackageSocket = pkg ? made.length > 0 && made.every((s) => s instanceof pkg.TLSSocket) : null;
out.tlsIsPackage = pkg ? tls === pkg : null;
console.log(JSON.stringify(out));
