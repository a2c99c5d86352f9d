import { Command } from 'commander'
import { explainVerify } from '../../config/index.ts'
import { loadConfigFile, readCandidateFile } from '../../node/index.ts'

export function verifyCommand (): Command {
  return new Command('verify')
    .description('check a sealed candidate against the pinned committee roster; exit 0 when valid')
    .requiredOption('--config <file>', 'config JSON file')
    .requiredOption('--candidate <file>', 'candidate as encoded SSZ bytes or JSON')
    .action(async (opts: { config: string, candidate: string }) => {
      const config = await loadConfigFile(opts.config)
      let verdict
      try {
        verdict = explainVerify(await readCandidateFile(opts.candidate), config)
      } catch (err) {
        verdict = { valid: false as const, reason: (err as Error).message }
      }
      if (verdict.valid) {
        process.stdout.write('valid\n')
      } else {
        process.stdout.write(`invalid: ${verdict.reason}\n`)
        process.exitCode = 1
      }
    })
}
