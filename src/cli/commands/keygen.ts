import { Command } from 'commander'
import { FileKeyStore, publicValues } from '../../enclave/index.ts'

export function keygenCommand (): Command {
  return new Command('keygen')
    .description('create a member\'s BLS key (with proof of possession) and both planes\' libp2p identities')
    .requiredOption('--out <dir>', 'key directory (private files are written mode 0600)')
    .option('--force', 'overwrite existing keys (the old BLS key is lost)')
    .option('--rotate', 'replace the BLS key only, keeping the libp2p identities; the old key is retired, not deleted')
    .action(async (opts: { out: string, force?: boolean, rotate?: boolean }) => {
      const store = new FileKeyStore(opts.out)
      const keys = opts.rotate === true ? await store.rotateBls() : await store.create({ force: opts.force })
      const values = publicValues(keys)
      process.stdout.write(JSON.stringify({
        committeeEntry: { blsPublicKey: values.blsPublicKey, proofOfPossession: values.proofOfPossession },
        privatePeerId: values.privatePeerId,
        publicPeerId: values.publicPeerId
      }, null, 2) + '\n')
    })
}
