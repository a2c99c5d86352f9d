/**
 * src/testing — the package's `atelier/testing` entry: what tests and local testnets use and
 * production never should (the software test TD, which mints quotes under its own root CA). Imports
 * src/enclave's test-only surface.
 */
export * from '../enclave/testing.ts'
