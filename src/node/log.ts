/**
 * Structured logs: one JSON object per line (`--log-format json`, for collectors) or a compact human
 * line (`pretty`, for terminals). Secrets are never passed in.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void
  info(event: string, fields?: Record<string, unknown>): void
  warn(event: string, fields?: Record<string, unknown>): void
  error(event: string, fields?: Record<string, unknown>): void
  child(fields: Record<string, unknown>): Logger
}

export interface LoggerOptions {
  format?: 'json' | 'pretty'
  level?: LogLevel
  write?(line: string): void
}

function render (value: unknown): unknown {
  if (typeof value === 'bigint') { return value.toString() }
  if (value instanceof Uint8Array) { return `0x${Buffer.from(value).toString('hex')}` }
  if (value instanceof Error) { return value.message }
  return value
}

export function createLogger (options: LoggerOptions = {}, base: Record<string, unknown> = {}): Logger {
  const format = options.format ?? 'json'
  const min = ORDER[options.level ?? 'info']
  const write = options.write ?? ((line: string) => { process.stderr.write(line + '\n') })
  const emit = (level: LogLevel, event: string, fields: Record<string, unknown> = {}): void => {
    if (ORDER[level] < min) {
      return
    }
    const all = { ...base, ...fields }
    if (format === 'json') {
      write(JSON.stringify({ time: new Date().toISOString(), level, event, ...all }, (_k, v) => render(v)))
    } else {
      const rest = Object.entries(all).map(([k, v]) => `${k}=${String(render(v))}`).join(' ')
      write(`${new Date().toISOString().slice(11, 23)} ${level.padEnd(5)} ${event}${rest.length > 0 ? ' ' + rest : ''}`)
    }
  }
  return {
    debug: (e, f) => { emit('debug', e, f) },
    info: (e, f) => { emit('info', e, f) },
    warn: (e, f) => { emit('warn', e, f) },
    error: (e, f) => { emit('error', e, f) },
    child: fields => createLogger(options, { ...base, ...fields })
  }
}

export const silentLogger: Logger = createLogger({ write: () => {} })
