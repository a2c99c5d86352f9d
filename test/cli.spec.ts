import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'aegir/chai'
import { parseConfig } from '../src/config/index.ts'
import { candidateToJson, MEMBER_NODE_ENV, MEMBER_NODE_FLAGS } from '../src/node/index.ts'
import { encodeMessage } from '../src/proto/index.ts'
import { runCli } from './fixtures/cli.ts'
import { configJson, memberKeys, seal, unsignedCandidate } from './fixtures/committee.ts'

describe('cli: entry point', () => {
  it('`atelier` (and `npm run atelier`) runs with the V8 flags and allocator setting the testnet gives its members (the heap bounds BENCHMARKS.md measured)', async () => {
    const env = Object.entries(MEMBER_NODE_ENV).map(([k, v]) => `${k}=${v}`).join(' ')
    const [shebang] = (await readFile(new URL('../src/cli/bin.ts', import.meta.url), 'utf8')).split('\n')
    expect(shebang).to.equal(`#!/usr/bin/env -S ${env} node ${MEMBER_NODE_FLAGS.join(' ')}`)
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'))
    expect(pkg.scripts.atelier).to.equal(`${env} node ${MEMBER_NODE_FLAGS.join(' ')} src/cli/bin.ts`)
  })
})

describe('cli: config fingerprint and verify', function () {
  this.timeout(60_000)
  const members = memberKeys(3)
  const json = configJson(members)
  const config = parseConfig(json)
  let dir: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'atelier-cli-'))
    await writeFile(join(dir, 'config.json'), JSON.stringify(json))
    const sealed = seal(unsignedCandidate(), members.slice(0, 2), config.root().bytes)
    await writeFile(join(dir, 'good.ssz'), encodeMessage('Candidate', sealed))
    await writeFile(join(dir, 'good.json'), JSON.stringify(candidateToJson(sealed)))
    await writeFile(join(dir, 'minority.json'), JSON.stringify(candidateToJson(seal(unsignedCandidate(), members.slice(0, 1), config.root().bytes))))
    await writeFile(join(dir, 'junk.ssz'), Uint8Array.from([1, 3, 9, 9]))
    await writeFile(join(dir, 'bad-config.json'), JSON.stringify({ ...json, chainRpc: 'not a url' }))
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('prints the fingerprint tag and id', async () => {
    const r = await runCli(['config', 'fingerprint', '--config', join(dir, 'config.json')])
    expect(r.code).to.equal(0)
    expect(r.stdout).to.equal(`${config.signatureTag()}\n${config.signature().toString()}\n`)
  })

  it('names the invalid field of a bad config and exits non-zero', async () => {
    const r = await runCli(['config', 'fingerprint', '--config', join(dir, 'bad-config.json')])
    expect(r.code).to.not.equal(0)
    expect(r.stderr).to.match(/chainRpc: expected an http/)
  })

  it('verify: valid candidate as SSZ and as JSON', async () => {
    for (const file of ['good.ssz', 'good.json']) {
      const r = await runCli(['verify', '--config', join(dir, 'config.json'), '--candidate', join(dir, file)])
      expect(r.stdout, file).to.equal('valid\n')
      expect(r.code, file).to.equal(0)
    }
  })

  it('verify: minority and undecodable candidates exit 1 with a reason', async () => {
    const minority = await runCli(['verify', '--config', join(dir, 'config.json'), '--candidate', join(dir, 'minority.json')])
    expect(minority.code).to.equal(1)
    expect(minority.stdout).to.equal('invalid: 1 of 3 signers is not a strict majority\n')
    const junk = await runCli(['verify', '--config', join(dir, 'config.json'), '--candidate', join(dir, 'junk.ssz')])
    expect(junk.code).to.equal(1)
    expect(junk.stdout).to.match(/^invalid: cannot decode/)
  })
})
