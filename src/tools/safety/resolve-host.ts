import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { NightshiftError } from '../../errors.js';

/** One address a host name resolves to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Turns a host name into its addresses; injectable so tests can play DNS without a network. */
export type ResolveHost = (host: string) => Promise<readonly ResolvedAddress[]>;

/** The system resolver (`dns.lookup`, every address, in the resolver's order). */
export const resolveWithSystem: ResolveHost = async (host) => {
  if (isIP(host) !== 0) return [{ address: host, family: isIP(host) === 4 ? 4 : 6 }];
  try {
    const answers = await lookup(host, { all: true, verbatim: true });
    return answers.map((answer) => ({
      address: answer.address,
      family: answer.family === 6 ? 6 : 4,
    }));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'lookup failed';
    throw new NightshiftError('tool_error', `could not resolve host ${host} (${code})`, {
      cause: error,
      details: { host },
    });
  }
};
