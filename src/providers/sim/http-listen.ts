/**
 * Listening for the simulator's HTTP endpoints (metrics, the AWS-compatible API): one way to
 * bind, to name the URL, and to stop — clients that keep connections alive (Prometheus, the AWS
 * SDK) must not hold a stopping server open.
 */
import type { IncomingMessage, Server } from 'node:http'

/** A listening HTTP server. */
export interface ListeningServer {
  /** `http://HOST:PORT` (an IPv6 host in brackets), without a path. */
  readonly origin: string
  readonly port: number
  /** Stops serving, drops open (keep-alive) connections and frees the port. */
  close(): Promise<void>
}

/**
 * Makes `server` listen on `host:port` (0: any free port). Rejects when it cannot (the port is
 * taken, the address is not this machine's), with Node's error and its `code`.
 */
export async function listenHttp(server: Server, host: string, port: number): Promise<ListeningServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  const bound = typeof address === 'object' && address !== null ? address.port : 0
  return {
    origin: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve()
        server.close(() => resolve())
        // Keep-alive connections would otherwise keep close waiting for ever.
        server.closeAllConnections()
      }),
  }
}

/**
 * A request's body as text, refused with `tooLarge()` (the API's own error) once it grows past
 * `maxBytes` — before it is all read, so a huge body cannot fill memory.
 */
export async function readRequestBody(
  request: IncomingMessage,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > maxBytes) throw tooLarge()
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}
