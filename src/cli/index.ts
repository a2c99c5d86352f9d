/**
 * src/cli — the `atelier` command (commander). Subcommands parse flags and print; the work lives in
 * src/node and below. May import src/node and the folders it re-exports.
 */
export { buildProgram, main } from './program.ts'
export type { NodeHooks } from './commands/node.ts'
