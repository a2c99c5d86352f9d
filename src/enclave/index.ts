/**
 * src/enclave — what a member's trust rests on: JWT tickets, TDX quote parsing and verification
 * (Intel DCAP plus atelier's extra checks), quote providers (configfs-tsm; the software test TD is in testing.ts), the
 * report_data binding, admission policy and BLS key custody. May import src/proto only.
 */
export * from './errors.ts'
export * from './tickets.ts'
export * from './quote-errors.ts'
export * from './quote-parse.ts'
export * from './collateral.ts'
export * from './quote-verifier.ts'
export * from './quote-provider.ts'
export * from './binding.ts'
export * from './admission.ts'
export * from './keystore.ts'
