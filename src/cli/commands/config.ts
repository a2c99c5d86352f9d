import { Command } from 'commander'
import { loadConfigFile } from '../../node/index.ts'

export function configCommand (): Command {
  const cmd = new Command('config').description('inspect an atelier config')
  cmd.command('fingerprint')
    .description('print the config fingerprint: the signature tag, then its id in hex')
    .requiredOption('--config <file>', 'config JSON file')
    .action(async (opts: { config: string }) => {
      const config = await loadConfigFile(opts.config)
      process.stdout.write(`${config.signatureTag()}\n${config.signature().toString()}\n`)
    })
  return cmd
}
