import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { AwsError } from './aws-errors.js';
import { createRequestId } from './ids.js';
import { renderError } from './xml.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface ListenInit {
  host: string;
  port: number;
  handler: RequestHandler;
  /** Called with a request the handler failed on; the emulator answers 500 and carries on. */
  onUnexpectedError?: (error: unknown) => void;
}

export interface RunningServer {
  readonly endpoint: string;
  /** Stops listening and destroys every connection, hung ones included. */
  close(): Promise<void>;
}

function formatEndpoint(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** What Node's HTTP parser rejected (bad header bytes, oversized headers), answered in XML. */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const body = renderError(
    'iam',
    new AwsError('MalformedHTTPRequest', status, tooLarge ? 'The request headers are too large.' : 'The HTTP request is malformed.'),
    createRequestId(),
  );
  socket.end(
    `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
      `content-type: text/xml\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

export async function listen({ host, port, handler, onUnexpectedError }: ListenInit): Promise<RunningServer> {
  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      onUnexpectedError?.(error);
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('emulator failure\n');
      } else {
        res.destroy();
      }
    });
  });
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('The emulator is not listening on TCP.');

  let closing: Promise<void> | undefined;
  return {
    endpoint: formatEndpoint(host, address.port),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
