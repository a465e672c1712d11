'use strict';
// COMPAT.md stays complete and its evidence real: every name node:tls
// exports, and every method of node:tls's TLSSocket and Server prototypes,
// has a row; every row has a status; every test file it links exists.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const tls = require('node:tls');

const root = path.join(__dirname, '..');
const text = fs.readFileSync(path.join(root, 'COMPAT.md'), 'utf8');

// The rows of every table: cells of lines that start with '|', without the
// header and separator lines.
function tableRows(markdown) {
  const rows = [];
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('| ')) continue;
    const cells = line.slice(1, line.lastIndexOf('|')).split('|').map((c) => c.trim());
    if (cells[0] === 'Name' || cells[0] === 'Option' || /^-+$/.test(cells[0].replace(/ /g, ''))) continue;
    rows.push(cells);
  }
  return rows;
}

// The names a row's first cell covers: `tlsSocket.write()`, `end()` gives
// tlsSocket.write and tlsSocket.end (a bare name takes the prefix of the
// first one); an event `tlsSocket 'secure'` gives tlsSocket 'secure'.
function rowNames(cell) {
  const names = [];
  let prefix = '';
  for (const m of cell.matchAll(/`([^`]+)`/g)) {
    const token = m[1].replace(/\(.*$/, '').trim();
    const dot = token.indexOf('.');
    if (dot > 0 && !token.includes(' ')) {
      prefix = token.slice(0, dot + 1);
      names.push(token);
    } else {
      names.push(prefix + token);
    }
  }
  return names;
}

const rows = tableRows(text);
const names = new Set(rows.flatMap((cells) => rowNames(cells[0])));
const methods = (proto) => Object.getOwnPropertyNames(proto)
  .filter((k) => k !== 'constructor' && typeof Object.getOwnPropertyDescriptor(proto, k).value === 'function');

test('every export of node:tls has a row', () => {
  // Node 24's additions are listed whichever Node runs the test.
  const exported = new Set([...Object.keys(tls), 'getCACertificates', 'setDefaultCACertificates',
    'getCertificateCompressionAlgorithms']);
  const missing = [...exported].filter((k) => !names.has(`tls.${k}`));
  assert.deepStrictEqual(missing, []);
});

test('every method of node:tls TLSSocket.prototype has a row', () => {
  const missing = methods(tls.TLSSocket.prototype).filter((k) => !names.has(`tlsSocket.${k}`));
  assert.deepStrictEqual(missing, []);
});

test('every method of node:tls Server.prototype has a row', () => {
  const missing = methods(tls.Server.prototype).filter((k) => !names.has(`server.${k}`));
  assert.deepStrictEqual(missing, []);
});

test('every row has five cells and a status of same, differs or missing', () => {
  assert.ok(rows.length > 100, `only ${rows.length} rows`);
  for (const cells of rows) {
    assert.strictEqual(cells.length, 5, `row ${cells[0]}`);
    assert.match(cells[2], /^(same|differs|missing)\b/, `status of ${cells[0]}`);
  }
});

test('every test a row cites exists: linked here, or named with the branch that adds it', () => {
  const linked = [...text.matchAll(/\]\((__test__\/[^)]+)\)/g)].map((m) => m[1]);
  assert.ok(linked.length > 50);
  for (const file of linked) assert.ok(fs.existsSync(path.join(root, file)), `${file} does not exist`);
  for (const cells of rows) {
    const [name, , , evidence, branch] = cells;
    // Outside the links, a test file may be named only by a row whose
    // branch column says where it comes from.
    const unlinked = evidence.replace(/\[[^\]]*\]\([^)]*\)/g, '').match(/[\w-]+\.test\.js/g) || [];
    if (unlinked.length > 0) assert.match(branch, /^(features|harness)/, `row ${name}: ${unlinked}`);
    if (!branch) assert.ok(evidence === 'untested' || /^\[/.test(evidence), `row ${name}: ${evidence}`);
  }
});
