/**
 * SSZ merkleization through hashtree (native SHA-256, as Lodestar does) instead of the pure-JS default:
 * a 200-transaction body hashes in ~0.8 ms instead of ~4.5 ms, and every member, sealer and reader
 * hashes each candidate. The digests are SHA-256 either way; where the native binding cannot load,
 * the WebAssembly one is used.
 *
 * The hasher is global to the SSZ library, so it is a program's choice, not a library's: entry points
 * (the CLI, the benchmarks) call `useNativeSszHasher()` once, before hashing anything; importing
 * atelier changes nothing.
 */
import { setHasher } from '@chainsafe/persistent-merkle-tree'

let chosen: Promise<'hashtree' | 'as-sha256'> | undefined

/** Installs hashtree (else as-sha256) as the SSZ hasher; idempotent. Resolves to the one installed. */
export async function useNativeSszHasher (): Promise<'hashtree' | 'as-sha256'> {
  chosen ??= (async () => {
    try {
      setHasher((await import('@chainsafe/persistent-merkle-tree/hasher/hashtree')).hasher)
      return 'hashtree' as const
    } catch {
      setHasher((await import('@chainsafe/persistent-merkle-tree/hasher/as-sha256')).hasher)
      return 'as-sha256' as const
    }
  })()
  return chosen
}
