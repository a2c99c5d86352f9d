import { readFile } from 'node:fs/promises'
import { Command } from 'commander'
import { fetchSlotClock } from '../../beacon/index.ts'
import { loadConfigFile, readClientTicket } from '../../node/index.ts'
import { HintSender, Plane, policyFromConfig, TicketEvidenceSource } from '../../p2p/index.ts'
import { fromHex, signHint } from '../../proto/index.ts'
import type { SlotClock } from '../../beacon/index.ts'

interface TemplateLine {
  slot?: number
  txs: string[]
  revertProtected?: boolean
}

async function readTemplates (path: string | undefined): Promise<TemplateLine[]> {
  let text = ''
  if (path == null || path === '-') {
    for await (const chunk of process.stdin) { text += String(chunk) }
  } else {
    text = await readFile(path, 'utf8')
  }
  const trimmed = text.trim()
  const items: unknown[] = trimmed.startsWith('[') ? JSON.parse(trimmed) : trimmed.split('\n').filter(l => l.trim() !== '').map(l => JSON.parse(l))
  return items.map((item, i) => {
    const t = item as TemplateLine
    if (!Array.isArray(t?.txs) || t.txs.some(x => typeof x !== 'string')) {
      throw new Error(`template ${i}: expected { "slot"?: number, "txs": ["0x…"], "revertProtected"?: bool }`)
    }
    return t
  })
}

export function cobuilderCommand (): Command {
  return new Command('cobuilder')
    .description('send signed hints (partial block templates) to a member; prints each verdict')
    .requiredOption('--config <file>', 'config JSON')
    .requiredOption('--ticket <file>', 'co-builder ticket file { identity, jwt }')
    .requiredOption('--key <file>', 'the co-builder\'s secp256k1 key (hex); its address is the co-builder id')
    .requiredOption('--bootstrap <ma...>', 'members\' public-plane multiaddrs')
    .option('--templates <file>', 'JSON array or JSON lines of { slot?, txs, revertProtected? } (default: stdin)')
    .option('--beacon-api <url>', 'a beacon node: a template without a slot targets the slot after next on its clock')
    .action(async (opts: { config: string, ticket: string, key: string, bootstrap: string[], templates?: string, beaconApi?: string }) => {
      const config = await loadConfigFile(opts.config)
      const { privateKey, jwt } = await readClientTicket(opts.ticket)
      const hintKey = fromHex((await readFile(opts.key, 'utf8')).trim())
      const templates = await readTemplates(opts.templates)
      if (opts.beaconApi == null && templates.some(t => t.slot == null)) {
        throw new Error('a template without a slot needs --beacon-api (slots are the beacon chain\'s)')
      }
      const clock = opts.beaconApi != null ? await fetchSlotClock(opts.beaconApi) : undefined
      const plane = await Plane.create({
        name: 'cobuilder',
        privateKey,
        listen: [],
        policy: policyFromConfig(config, ['member']),
        evidence: new TicketEvidenceSource(jwt),
        topics: []
      })
      try {
        const member = opts.bootstrap[0]
        await plane.connect(member)
        const peer = plane.node.getPeers()[0]
        const sender = await HintSender.open(plane, peer)
        for (const t of templates) {
          const slot = t.slot ?? (clock as SlotClock).current() + 2
          const hint = signHint(hintKey, slot, { txs: t.txs.map(fromHex), revertProtected: t.revertProtected === true }, config.root().bytes)
          const verdict = await sender.send(hint)
          process.stdout.write(JSON.stringify({ slot, ...verdict }) + '\n')
          if (!verdict.accepted) { process.exitCode = 1 }
        }
        await sender.close()
      } finally {
        await plane.stop()
      }
    })
}
