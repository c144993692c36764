import { isIP } from 'node:net';
import { NightshiftError } from '../../errors.js';
import { classifyAddress } from './address-class.js';
import { HostAllowList } from './host-allow-list.js';
import { hostRefusal } from './host-refusal.js';
import { normalizeHost } from './ip-address.js';
import { resolveWithSystem, type ResolveHost, type ResolvedAddress } from './resolve-host.js';

/** Names that reach cloud metadata services without resolving to a telltale address everywhere. */
const METADATA_HOST_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'instance-data',
  'instance-data.ec2.internal',
]);

/** Who may be contacted besides public addresses, and how names are resolved. */
export interface AddressPolicy {
  /** Host names, IP addresses or CIDR ranges to allow although they are not public. */
  allowHosts?: readonly string[] | undefined;
  /** Resolver to use (default: the system's `dns.lookup`). */
  resolve?: ResolveHost | undefined;
}

/**
 * Resolves `host` and returns its addresses if every one of them is public or allowed;
 * otherwise throws a `refused: …` error naming the host and the reason. Callers must connect
 * to the returned addresses only (see `pinnedLookup`), so that DNS answering differently
 * between this check and the connection cannot redirect it.
 */
export async function assertPublicAddress(
  host: string,
  policy: AddressPolicy = {},
): Promise<ResolvedAddress[]> {
  const name = normalizeHost(host);
  if (name === '') throw new NightshiftError('tool_error', 'refused: the URL names no host');
  const allowList = new HostAllowList(policy.allowHosts);
  const resolve = policy.resolve ?? resolveWithSystem;
  const literal = isIP(name);
  if (literal !== 0) {
    checkAddress(name, name, allowList);
    return [{ address: name, family: literal === 4 ? 4 : 6 }];
  }
  const listedByName = allowList.allowsName(name);
  if (!listedByName) {
    if (name === 'localhost' || name.endsWith('.localhost')) {
      throw hostRefusal(
        name,
        `${name} is a loopback host name (add it to allow_hosts to permit it)`,
      );
    }
    if (METADATA_HOST_NAMES.has(name)) {
      throw hostRefusal(
        name,
        `${name} is a cloud metadata host name (add it to allow_hosts to permit it)`,
      );
    }
  }
  const addresses = [...(await resolve(name))];
  if (addresses.length === 0) {
    throw new NightshiftError('tool_error', `could not resolve host ${name} (no addresses)`);
  }
  // A name the operator listed is trusted with whatever it resolves to: that is what listing it means.
  if (!listedByName) for (const { address } of addresses) checkAddress(name, address, allowList);
  return addresses;
}

function checkAddress(host: string, address: string, allowList: HostAllowList): void {
  const found = classifyAddress(address);
  if (!found || allowList.allowsAddress(address, found.kind === 'metadata')) return;
  const subject =
    host === normalizeHost(address)
      ? `${address} is ${found.description}`
      : `${host} resolves to ${address}, ${found.description}`;
  const remedy =
    host === normalizeHost(address)
      ? `add it to allow_hosts`
      : `add ${host} or ${address} to allow_hosts`;
  throw hostRefusal(host, `${subject} (${remedy} to permit it)`, {
    address,
    kind: found.kind,
  });
}
