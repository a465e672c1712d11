// module.register() resolve hooks behind rustls-tls/register: an import of
// 'tls' or 'node:tls' from outside the package resolves to the package's
// ESM entry (index.mjs, whose default export is require('rustls-tls')).

let root = null;
let target = null;

export function initialize(data) {
  root = data.root;
  target = data.target;
}

function isPackageUrl(url) {
  if (typeof url !== 'string' || !url.startsWith(root)) return false;
  const rel = url.slice(root.length);
  return !rel.startsWith('node_modules/') && !rel.startsWith('__test__/');
}

export async function resolve(specifier, context, nextResolve) {
  if ((specifier === 'tls' || specifier === 'node:tls') && !isPackageUrl(context.parentURL)) {
    return { url: target, format: 'module', shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
