/**
 * src/enclave — what a member's trust rests on: JWT tickets, TDX quote verification and providers,
 * admission policy and BLS key custody. May import src/proto only.
 */
export * from './errors.ts'
export * from './tickets.ts'
