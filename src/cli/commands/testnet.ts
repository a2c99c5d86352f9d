import { Command } from 'commander'

export function testnetCommand (): Command {
  return new Command('testnet')
    .description('run a local multi-node testnet on embedded defaults')
    .action(() => {
      process.stderr.write('testnet not yet available: the member node lands with the testnet issue\n')
      process.exitCode = 1
    })
}
