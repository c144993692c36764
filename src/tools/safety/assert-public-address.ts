import { isIP } from 'node:net';
import { isMetadataHostName } from '../../config/allow-host-entry.js';
import { NightshiftError } from '../../errors.js';
import { addressFindings, type AddressFinding } from './address-class.js';
import { HostAllowList } from './host-allow-list.js';
import { hostRefusal } from './host-refusal.js';
import { normalizeHost } from './ip-address.js';
import { resolveWithSystem, type ResolveHost, type ResolvedAddress } from './resolve-host.js';

/** Who may be contacted besides public addresses, and how names are resolved. */
export interface AddressPolicy {
  /** Host names, IP addresses or CIDR ranges to allow although they are not public. */
  allowHosts?: readonly string[] | undefined;
  /** Resolver to use (default: the system's `dns.lookup`). */
  resolve?: ResolveHost | undefined;
}

const NEVER = 'allow_hosts can never permit it';

/**
 * Resolves `host` and returns its addresses if every one of them is public or allowed;
 * otherwise throws a `refused: …` error naming the host and the reason. Callers must connect
 * to the returned addresses only (see `pinnedLookup`), so that DNS answering differently
 * between this check and the connection cannot redirect it. Cloud metadata host names and
 * addresses, in any form, are refused whatever `allowHosts` says.
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
    checkAddress(name, name, allowList, false);
    return [{ address: name, family: literal === 4 ? 4 : 6 }];
  }
  // Checked before the allow-list, so that no wildcard (`*.internal`) can cover one.
  if (isMetadataHostName(name)) {
    throw hostRefusal(name, `${name} is a cloud metadata host name (${NEVER})`, {
      kind: 'metadata',
    });
  }
  const listedByName = allowList.allowsName(name);
  if (!listedByName && (name === 'localhost' || name.endsWith('.localhost'))) {
    throw hostRefusal(name, `${name} is a loopback host name (add it to allow_hosts to permit it)`);
  }
  const addresses = [...(await resolve(name))];
  if (addresses.length === 0) {
    throw new NightshiftError('tool_error', `could not resolve host ${name} (no addresses)`);
  }
  for (const { address } of addresses) checkAddress(name, address, allowList, listedByName);
  return addresses;
}

/** A link-local IPv4 address is allowed only by listing it: ranges never reach 169.254.0.0/16. */
function exactOnly(finding: AddressFinding): boolean {
  return finding.kind === 'link_local' && isIP(finding.address) === 4;
}

function checkAddress(
  host: string,
  address: string,
  allowList: HostAllowList,
  listedByName: boolean,
): void {
  const findings = addressFindings(address);
  const [first] = findings;
  if (!first) return;
  if (first.kind !== 'metadata') {
    // A name the operator listed is trusted with whatever it resolves to (but metadata): that is what listing it means.
    if (listedByName) return;
    // Listing the address itself, or every non-public IPv4 address it carries, permits it.
    if (allowList.allowsAddress(address, findings.some(exactOnly))) return;
    if (findings.every((finding) => allowList.allowsAddress(finding.address, exactOnly(finding)))) {
      return;
    }
  }
  const literal = host === normalizeHost(address);
  const carries = first.carries === undefined ? '' : `, as it carries ${first.carries}`;
  const subject = literal
    ? `${address} is ${first.description}${carries}`
    : `${host} resolves to ${address}, ${first.description}${carries}`;
  const remedy =
    first.kind === 'metadata'
      ? NEVER
      : `${literal ? 'add it' : `add ${host} or ${address}`} to allow_hosts to permit it`;
  throw hostRefusal(host, `${subject} (${remedy})`, {
    address,
    kind: first.kind,
    ...(first.carries === undefined ? {} : { carries: first.carries }),
  });
}
