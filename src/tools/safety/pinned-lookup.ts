import type { LookupFunction } from 'node:net';
import type { ResolvedAddress } from './resolve-host.js';

/**
 * A `lookup` for `net.connect` / `http.request` that answers with the addresses already checked,
 * instead of asking DNS again: the connection goes where the check looked, so a DNS answer that
 * changes in between (rebinding) cannot reach anything else.
 */
export function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (hostname, options, callback) => {
    const requested =
      options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
    const candidates =
      requested === 4 || requested === 6
        ? addresses.filter((entry) => entry.family === requested)
        : addresses;
    const first = candidates[0];
    if (!first) {
      const error: NodeJS.ErrnoException = new Error(
        `no checked IPv${requested} address for ${hostname}`,
      );
      error.code = 'ENOTFOUND';
      callback(error, '', 0);
      return;
    }
    if (options.all) {
      callback(
        null,
        candidates.map((entry) => ({ address: entry.address, family: entry.family })),
      );
    } else {
      callback(null, first.address, first.family);
    }
  };
}
