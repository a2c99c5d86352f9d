/**
 * The one way atelier frames messages on a libp2p stream: length-prefixed, a frame at most `max`
 * bytes (default MAX_MESSAGE_BYTES). libp2p 3 resets a stream whose unread bytes pass a read buffer
 * of 4 MiB, twice (the stream's own and the byte reader's, measured: a 6 MB hint died with "Read
 * buffer overflow - 6000312 > 4194304"), which is below the frames atelier sends (a 32-blob bundle is
 * 4.4 MB): both are raised to hold a whole frame and a little more, so a frame that is too large is
 * refused by its length prefix or its size, with a reason, not by a reset.
 */
import { lpStream } from '@libp2p/utils'
import { MAX_MESSAGE_BYTES } from '../proto/index.ts'
import type { Stream } from '@libp2p/interface'

export type MessageStream = ReturnType<typeof lpStream>

export function messageStream (stream: Stream, max = MAX_MESSAGE_BYTES): MessageStream {
  const buffer = max + 64 * 1024
  stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, buffer)
  return lpStream(stream, { maxDataLength: max, maxBufferSize: buffer })
}

/** Whether a read failed on a frame's length prefix announcing more than the stream takes. */
export function isFrameTooLong (err: unknown): boolean {
  return (err as { name?: string })?.name === 'InvalidDataLengthError'
}
