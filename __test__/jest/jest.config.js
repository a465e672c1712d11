'use strict';
// Jest runs each test file in its own vm context: objects created by native
// code (or by another realm) fail `instanceof Error` there. These tests show
// that rustls-tls builds its user-visible objects in the caller's realm.
//
//   npx jest --config __test__/jest/jest.config.js --runInBand

module.exports = {
  rootDir: __dirname,
  testMatch: ['**/*.jest.js'],
  testEnvironment: 'node',
  testTimeout: 15000,
};
