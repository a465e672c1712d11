'use strict';
// The package's exports (index.js), required on first use: index.js requires
// the modules that ask for them, so they cannot be required at load.

let exportsOfPackage = null;

function pkg() {
  if (exportsOfPackage === null) exportsOfPackage = require('..');
  return exportsOfPackage;
}

module.exports = pkg;
