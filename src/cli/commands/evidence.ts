import { join } from 'node:path'
import { Command } from 'commander'
import { NodeStore } from '../../node/index.ts'
import { equivocationKindName, toHex } from '../../proto/index.ts'

export function evidenceCommand (): Command {
  return new Command('evidence')
    .description('list the equivocation evidence a member holds (one JSON line each), from its data directory')
    .requiredOption('--data <dir>', 'the member\'s data directory (as given to atelier node --data)')
    .action(async (opts: { data: string }) => {
      let store: NodeStore
      try {
        store = await NodeStore.open(join(opts.data, 'db'))
      } catch (err) {
        // LevelDB allows one process at a time: a running member holds the lock
        throw new Error(`cannot open ${join(opts.data, 'db')}: ${(err as Error).message} (is the member running? its atelier_equivocations_total metric counts the same evidence)`)
      }
      try {
        for (const e of await store.evidence()) {
          process.stdout.write(JSON.stringify({
            slot: e.slot,
            member: e.member,
            kind: equivocationKindName(e.kind) ?? e.kind,
            rootA: `0x${toHex(e.rootA)}`,
            signatureA: `0x${toHex(e.signatureA)}`,
            rootB: `0x${toHex(e.rootB)}`,
            signatureB: `0x${toHex(e.signatureB)}`
          }) + '\n')
        }
      } finally {
        await store.close()
      }
    })
}
