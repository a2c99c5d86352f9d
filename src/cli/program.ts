import { Command, CommanderError } from 'commander'
import { blocktestCommand } from './commands/blocktest.ts'
import { cobuilderCommand } from './commands/cobuilder.ts'
import { configCommand } from './commands/config.ts'
import { evidenceCommand } from './commands/evidence.ts'
import { followCommand } from './commands/follow.ts'
import { keygenCommand } from './commands/keygen.ts'
import { nodeCommand } from './commands/node.ts'
import { quoteCommand } from './commands/quote.ts'
import { testnetCommand } from './commands/testnet.ts'
import { verifyCommand } from './commands/verify.ts'
import type { NodeHooks } from './commands/node.ts'

export function buildProgram (hooks: NodeHooks = {}): Command {
  const program = new Command('atelier')
    .description('TDX co-building committee for Ethereum block building')
    .showHelpAfterError()
    .exitOverride()
  program.addCommand(configCommand())
  program.addCommand(verifyCommand())
  program.addCommand(quoteCommand())
  program.addCommand(keygenCommand())
  program.addCommand(nodeCommand(hooks))
  program.addCommand(cobuilderCommand())
  program.addCommand(followCommand())
  program.addCommand(testnetCommand())
  program.addCommand(evidenceCommand())
  program.addCommand(blocktestCommand())
  return program
}

/**
 * Runs the CLI; returns the process exit code instead of exiting, so tests can call it in-process.
 * `hooks` are for test harnesses that run a faulty member (the production entry passes none).
 */
export async function main (argv: string[], hooks: NodeHooks = {}): Promise<number> {
  const program = buildProgram(hooks)
  try {
    await program.parseAsync(argv, { from: 'user' })
    return process.exitCode == null ? 0 : Number(process.exitCode)
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode
    }
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`)
    return 2
  }
}
