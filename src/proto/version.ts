/** The first byte of every encoded atelier message. Bump on any incompatible encoding change. */
export const WIRE_VERSION = 4
