'use strict';
// The hooks behind rustls-tls/register (see ../register.js).

const Module = require('module');
const path = require('path');
const { pathToFileURL } = require('url');

const root = path.join(__dirname, '..');
const kInstalled = Symbol.for('rustls-tls.register');

// The package's own files: they keep node:tls. A dependency installed under
// the package's folder (node_modules/, during development) is not one.
function isPackageFile(file) {
  if (typeof file !== 'string' || !file.startsWith(root + path.sep)) return false;
  const rel = file.slice(root.length + 1);
  return !rel.startsWith(`node_modules${path.sep}`) && !rel.startsWith(`__test__${path.sep}`);
}

function isTls(request) {
  return request === 'tls' || request === 'node:tls';
}

function installRequireHook() {
  const originalLoad = Module._load;
  Module._load = function load(request, parent, isMain) {
    if (isTls(request) && !(parent && isPackageFile(parent.filename))) {
      return originalLoad.call(this, root, null, false);
    }
    return originalLoad.call(this, request, parent, isMain);
  };
}

// process.getBuiltinModule('tls') (Node >= 22.3) is a way around require().
function installBuiltinHook() {
  const original = process.getBuiltinModule;
  if (typeof original !== 'function') return;
  process.getBuiltinModule = function getBuiltinModule(id) {
    if (isTls(id)) return require(root);
    return original.call(this, id);
  };
}

function installImportHook() {
  const { register } = Module;
  // module.register() arrived in Node 20.6; before it, only require() is redirected.
  if (typeof register !== 'function') return false;
  register(pathToFileURL(path.join(__dirname, 'register-hooks.mjs')), {
    data: {
      root: pathToFileURL(root + path.sep).href,
      target: pathToFileURL(path.join(root, 'index.mjs')).href,
    },
  });
  return true;
}

/** Installs both hooks once per thread (a second --require/--import is a no-op). */
function install() {
  if (globalThis[kInstalled]) return globalThis[kInstalled];
  const state = { require: true, import: false };
  globalThis[kInstalled] = state;
  installRequireHook();
  installBuiltinHook();
  state.import = installImportHook();
  return state;
}

module.exports = { install, isPackageFile };
