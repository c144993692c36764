import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header a webhook body's signature travels in. */
export const SIGNATURE_HEADER = 'X-Nightshift-Signature';

/** How far a signature's time may be from the receiver's clock unless told otherwise: five minutes. */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

/** The hex HMAC-SHA256 of `${timestamp}.${body}` under `secret`: the `v1` of the header. */
function digest(body: string | Uint8Array, timestamp: number, secret: string): string {
  return createHmac('sha256', secret)
    .update(`${timestamp}.`)
    .update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body)
    .digest('hex');
}

/**
 * The `X-Nightshift-Signature` value of `body`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<body>" under the target's secret>`. Signing the time with the body lets a receiver
 * refuse an old request replayed.
 */
export function signNightshiftBody(
  body: string | Uint8Array,
  secret: string,
  timestampSeconds: number = Math.floor(Date.now() / 1000),
): string {
  return `t=${timestampSeconds},v1=${digest(body, timestampSeconds, secret)}`;
}

/** Options of {@link verifyNightshiftSignature}. */
export interface VerifySignatureOptions {
  /** How many seconds the signed time may differ from now. Default 300. */
  toleranceSeconds?: number;
  /** Now, in unix seconds (tests). Default the clock's. */
  nowSeconds?: number;
}

/**
 * True when `header` (an `X-Nightshift-Signature` value) signs `body` (the raw request body,
 * exactly as received) with `secret`, at a time within `toleranceSeconds` of now. Any `v1=` of
 * the header may match (a sender may list more than one). Compares in constant time.
 */
export function verifyNightshiftSignature(
  body: string | Uint8Array,
  header: string | null | undefined,
  secret: string,
  options: VerifySignatureOptions = {},
): boolean {
  if (typeof header !== 'string' || secret === '') return false;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't' && value !== undefined && /^\d+$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && value !== undefined && /^[0-9a-f]{64}$/.test(value))
      signatures.push(value);
  }
  if (timestamp === undefined || signatures.length === 0) return false;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_SIGNATURE_TOLERANCE_SECONDS;
  if (Math.abs(now - timestamp) > tolerance) return false;
  const expected = Buffer.from(digest(body, timestamp, secret), 'hex');
  return signatures.some((signature) => timingSafeEqual(Buffer.from(signature, 'hex'), expected));
}
