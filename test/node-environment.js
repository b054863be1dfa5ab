// Jest gives each test file its own realm with its own typed-array constructors, but native
// addons (onnxruntime-node) build their outputs with the main realm's, so `instanceof` checks in
// onnxruntime-common reject them (jestjs/jest#11864). Share the main realm's constructors.
const { TestEnvironment } = require('jest-environment-node');

const sharedConstructors = [
  'ArrayBuffer',
  'Uint8Array',
  'Int8Array',
  'Uint16Array',
  'Int16Array',
  'Uint32Array',
  'Int32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class SharedTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of sharedConstructors) this.global[name] = globalThis[name];
  }
}

module.exports = SharedTypedArraysEnvironment;
