import { readFile } from 'node:fs/promises'
import { Command, Option } from 'commander'
import { QuoteError, TCB_STATUSES, TdxQuoteVerifier } from '../../enclave/index.ts'
import { fromHex, toHex } from '../../proto/index.ts'
import type { TcbStatus } from '../../enclave/index.ts'

interface QuoteVerifyOptions {
  quote: string
  collateral: string
  now?: string
  root?: string
  mrtd: string[]
  allowTcb: TcbStatus[]
}

/** Quote files are raw bytes, or hex text (as `quote-from-tappd.hex`). */
async function readQuote (path: string): Promise<Uint8Array> {
  const bytes = new Uint8Array(await readFile(path))
  const text = new TextDecoder().decode(bytes.subarray(0, 64)).trim()
  if (/^(0x)?[0-9a-fA-F]+$/.test(text)) {
    return fromHex(new TextDecoder().decode(bytes).trim())
  }
  return bytes
}

export function quoteCommand (): Command {
  const cmd = new Command('quote').description('TDX quotes')
  cmd.command('verify')
    .description('verify a TDX quote with its collateral (Intel root unless --root); exit 0 when accepted')
    .requiredOption('--quote <file>', 'quote (raw bytes or hex)')
    .requiredOption('--collateral <file>', 'collateral JSON')
    .option('--now <unix>', 'verification time in unix seconds (default: now)')
    .option('--root <der>', 'trust this root CA (DER file) instead of the Intel SGX Root CA')
    .option('--mrtd <hex...>', 'allowed MR_TD values (default: MR_TD not checked)', [])
    .addOption(new Option('--allow-tcb <status...>', 'allowed TCB statuses').choices(TCB_STATUSES).default(['UpToDate']))
    .action(async (opts: QuoteVerifyOptions) => {
      const verifier = new TdxQuoteVerifier({
        trustedRootDer: opts.root != null ? new Uint8Array(await readFile(opts.root)) : undefined,
        allowedTcbStatuses: opts.allowTcb
      })
      const now = opts.now != null ? Number(opts.now) : Math.floor(Date.now() / 1000)
      if (!Number.isSafeInteger(now) || now < 0) {
        throw new Error(`--now must be unix seconds, got "${String(opts.now)}"`)
      }
      const quote = await readQuote(opts.quote)
      const collateral = JSON.parse(await readFile(opts.collateral, 'utf8'))
      const mrtdAcl = opts.mrtd.length > 0 ? opts.mrtd.map(fromHex) : undefined
      try {
        const v = await verifier.verify(quote, collateral, now, { mrtdAcl })
        const lines = [
          'accepted',
          `status: ${v.status}${v.advisoryIds.length > 0 ? ` (advisories: ${v.advisoryIds.join(', ')})` : ''}`,
          `root: ${verifier.usesIntelRoot ? 'Intel SGX Root CA' : opts.root ?? ''}`,
          `mr_td: ${toHex(v.mrTd)}${mrtdAcl == null ? ' (not checked: no --mrtd given)' : ' (allowed)'}`,
          ...v.rtmr.map((r, i) => `rtmr${i}: ${toHex(r)}`),
          `report_data: ${toHex(v.reportData)}`,
          `collateral valid until: ${new Date(v.validUntil * 1000).toISOString()}`
        ]
        process.stdout.write(lines.join('\n') + '\n')
      } catch (err) {
        if (!(err instanceof QuoteError)) {
          throw err
        }
        process.stdout.write(`rejected: ${err.code}\n${err.message}\n`)
        process.exitCode = 1
      }
    })
  return cmd
}
