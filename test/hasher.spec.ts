import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { hasher, setHasher } from '@chainsafe/persistent-merkle-tree'
import { hasher as asSha256 } from '@chainsafe/persistent-merkle-tree/hasher/as-sha256'
import { hasher as hashtree } from '@chainsafe/persistent-merkle-tree/hasher/hashtree'
import { hasher as noble } from '@chainsafe/persistent-merkle-tree/hasher/noble'
import { expect } from 'aegir/chai'
import { candidateSigningRoot, ssz, toHex, useNativeSszHasher } from '../src/proto/index.ts'
import { EXAMPLES } from './fixtures/examples.ts'
import type { CandidateValue } from '../src/proto/index.ts'
import type { Hasher } from '@chainsafe/persistent-merkle-tree'

const vectors = JSON.parse(readFileSync(new URL('./vectors/wire.json', import.meta.url), 'utf8')) as Record<string, { root: string }>

/** A candidate with 200 transactions of uneven lengths (the size the benchmarks hash) */
function bigCandidate (): CandidateValue {
  const body = Array.from({ length: 200 }, (_, i) => Uint8Array.from({ length: 1 + (i * 37) % 311 }, (_, j) => (i * 31 + j * 7) & 0xff))
  return { ...EXAMPLES.Candidate, body }
}

function roots (h: Hasher, candidate: CandidateValue): string[] {
  const previous = hasher
  setHasher(h)
  try {
    return [
      toHex(ssz.Candidate.hashTreeRoot(candidate)),
      toHex(ssz.Transactions.hashTreeRoot(candidate.body)),
      toHex(candidateSigningRoot(candidate, new Uint8Array(32).fill(0xd0)))
    ]
  } finally {
    setHasher(previous)
  }
}

describe('proto: SSZ hasher', () => {
  it('hashtree, as-sha256 and the default (noble) give the same roots for real candidates', () => {
    for (const candidate of [EXAMPLES.Candidate, bigCandidate()]) {
      const expected = roots(noble, candidate)
      expect(roots(hashtree, candidate)).to.deep.equal(expected)
      expect(roots(asSha256, candidate)).to.deep.equal(expected)
    }
    expect(roots(hashtree, EXAMPLES.Candidate)[0]).to.equal(vectors.Candidate.root)
  })

  it('useNativeSszHasher installs hashtree, once', async () => {
    const previous = hasher
    try {
      expect(await useNativeSszHasher()).to.equal('hashtree')
      expect(hasher.name).to.equal('hashtree')
      const installed = hasher
      expect(await useNativeSszHasher()).to.equal('hashtree')
      expect(hasher).to.equal(installed)
    } finally {
      setHasher(previous)
    }
  })

  it('importing atelier leaves the SSZ hasher alone', function () {
    this.timeout(30_000)
    const script = `
      const { hasher } = await import('@chainsafe/persistent-merkle-tree')
      await import(${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)})
      process.stdout.write(hasher.name)`
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
    expect(child.stderr).to.not.match(/Error/)
    expect(child.stdout).to.equal('noble')
  })
})
