import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyNightshiftSignature } from '../../src/index.js';
import { onCleanup } from './service-fixtures.js';

/** One request a receiver got. */
export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The parsed JSON body. */
  json: ReturnType<typeof JSON.parse>;
  /** True when its `X-Nightshift-Signature` verified with the receiver's secret. */
  verified: boolean;
}

/** What the receiver answers the nth request (0 = the first): a status, or no answer at all. */
export type Respond = (index: number, request: ReceivedRequest) => number | 'hang';

/** A local webhook receiver (node:http), verifying signatures as a real one would. */
export interface Receiver {
  /** Its base URL (`http://127.0.0.1:<port>`). */
  url: string;
  /** Every request received, in order. */
  requests: ReceivedRequest[];
  /** Requests held open without an answer (`'hang'`). */
  readonly hanging: number;
}

/** Starts a receiver on a free port, closed after the test. */
export async function startReceiver(
  options: { secret?: string; respond?: Respond } = {},
): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const held = new Set<ServerResponse>();
  const respond = options.respond ?? (() => 200);
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = incoming.headers['x-nightshift-signature'];
      const request: ReceivedRequest = {
        path: incoming.url ?? '',
        headers: incoming.headers,
        body,
        json: JSON.parse(body),
        verified:
          options.secret !== undefined &&
          verifyNightshiftSignature(
            body,
            typeof header === 'string' ? header : undefined,
            options.secret,
            {
              toleranceSeconds: 60,
            },
          ),
      };
      const index = requests.length;
      requests.push(request);
      const answer = respond(index, request);
      if (answer === 'hang') {
        held.add(response);
        response.on('close', () => held.delete(response));
        return;
      }
      response.writeHead(answer, { 'Content-Type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get hanging() {
      return held.size;
    },
  };
}
