// The asset server over TLS: HTTP/2 with HTTP/1.1 fallback (ALPN) on one port, the certificate chosen per SNI name
// from the in-memory certificate index, so a renewal replicated from another node is served on the next handshake,
// without a restart. TLS 1.2 and 1.3 only, Node's default (modern) cipher list. A name with no certificate ends the
// handshake (as nginx's ssl_reject_handshake does) instead of showing another site's certificate.

import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { CertIndex } from '../tls/cert-index.js';
import type { RequestListener } from './asset-server.js';

export interface HttpsListener {
  server: Http2SecureServer;
  port: number;
  close(): Promise<void>;
}

export async function listenHttps(options: { host: string; port: number; certs: CertIndex; listener: RequestListener; logger: Logger }): Promise<HttpsListener> {
  const { certs, listener, logger } = options;
  const sockets = new Set<Socket>();
  const server = createSecureServer(
    {
      allowHTTP1: true,
      minVersion: 'TLSv1.2',
      SNICallback: (servername, callback) => {
        const context = certs.context(servername);
        if (context) callback(null, context);
        else callback(new Error(`no certificate for ${servername}`));
      },
      // Same limits as the plain listener: idle and slow clients must not pile up.
      settings: { maxConcurrentStreams: 100 },
    },
    // The compatibility request and response implement what the asset server's handler uses.
    (request, response) => listener(request as unknown as IncomingMessage, response as unknown as ServerResponse, true),
  );
  server.setTimeout(30_000);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Handshakes that fail (no SNI, unknown name, a scanner) are routine on a public port: debug, not error.
  server.on('tlsClientError', (err) => logger.debug({ err: err.message }, 'TLS handshake failed'));
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : options.port);
    });
  });
  return {
    server,
    port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
