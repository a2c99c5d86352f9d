/** Worker thread of the `dial` bench: the listening ends, one plain and one attested, until told to stop. */
import { parentPort, workerData } from 'node:worker_threads'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { TestTd } from '../src/testing/index.ts'
import { attestedPlane, plainNode } from './dial.ts'
import type { ListenerData } from './dial.ts'

const data = workerData as ListenerData
const plain = await plainNode()
const attested = await attestedPlane(data.configJson, await TestTd.load(data.td), privateKeyFromProtobuf(data.key), data.ticket)
parentPort?.once('message', () => {
  void Promise.allSettled([plain.stop(), attested.stop()]).then(() => { process.exit(0) })
})
parentPort?.postMessage({ plain: plain.getMultiaddrs()[0].toString(), attested: attested.addresses()[0].toString() })
