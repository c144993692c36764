import type { IncomingMessage } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import zlib from 'node:zlib';

/** A response body read up to a byte cap. */
export interface CappedBody {
  body: Buffer;
  /** True when the body went on past the cap; the rest was never read. */
  truncated: boolean;
  /** How many bytes were left unread, when the server said how long the body was. */
  unreadBytes?: number | undefined;
}

function decoderFor(
  encoding: string,
): zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | undefined {
  if (encoding === 'gzip' || encoding === 'x-gzip') return zlib.createGunzip();
  if (encoding === 'deflate') return zlib.createInflate();
  if (encoding === 'br') return zlib.createBrotliDecompress();
  return undefined;
}

/**
 * Reads at most `maxBytes` of the (decompressed) body and then stops reading and closes the
 * response: the cap bounds the memory and the bytes pulled off the network, also against a
 * small compressed body that inflates without end.
 */
export async function readCappedBody(
  response: IncomingMessage,
  maxBytes: number,
): Promise<CappedBody> {
  const encoding = String(response.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  const decoder = decoderFor(encoding);
  const source: Readable = decoder ? pipeline(response, decoder, () => undefined) : response;
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  try {
    if (maxBytes > 0) {
      for await (const chunk of source) {
        const buffer = chunk as Buffer;
        if (size + buffer.length > maxBytes) {
          chunks.push(buffer.subarray(0, maxBytes - size));
          size = maxBytes;
          truncated = true;
          break;
        }
        chunks.push(buffer);
        size += buffer.length;
      }
    }
  } finally {
    response.on('error', () => undefined);
    response.destroy();
  }
  const declared = Number(response.headers['content-length']);
  const unreadBytes =
    truncated && !decoder && Number.isFinite(declared) && declared > maxBytes
      ? declared - maxBytes
      : undefined;
  return {
    body: Buffer.concat(chunks),
    truncated,
    unreadBytes,
  };
}
