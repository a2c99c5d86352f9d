/**
 * The enclave's test-only surface: a software TD that mints real-format TDX quotes under its own root
 * CA, and a quote provider over it. Kept out of src/enclave/index.ts (and so out of the package root):
 * programs reach it through `atelier/testing`, and inside atelier only the testnet and the test-td
 * quote provider do.
 */
export * from './test-td.ts'
export * from './test-td-provider.ts'
