/**
 * What an `allow_hosts` entry may be. The agent definition is checked with it when it is
 * loaded, and the network tools (src/tools/safety) build their allow-list with the same parser,
 * so the two can never disagree about an entry.
 *
 * An entry is exactly one of:
 * - a host name of RFC 1123 labels (`db.internal.example`; case and a trailing dot ignored);
 * - `*.` and a domain of at least two labels (`*.corp.example`): every name below it, not the
 *   domain itself. A single label is too broad, as a listed name is trusted with whatever it
 *   resolves to and anyone can register a name under `com`; the exceptions are the domains no
 *   one can register publicly: `*.internal`, `*.local` and `*.localhost`;
 * - an IPv4 or IPv6 address, IPv6 optionally in brackets (no zone);
 * - a CIDR range with a prefix length of 0–32 or 0–128, except /0 (it would allow everything).
 *
 * No entry may ever open a cloud metadata service, where instance credentials live: an entry
 * naming a metadata host name or address — in any IPv6 form that carries the IPv4 address — is
 * refused here, and the tools never let a wildcard, a range or a listed name's DNS answer reach
 * one. The whole of 169.254.0.0/16 is treated with suspicion, as providers keep adding
 * credential services there (ECS, EKS Pod Identity, Tencent): ranges never reach into it (a range
 * inside it is refused here), so each link-local address that should be reachable is listed
 * by itself.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

/** An IP address as a number: IPv4 in 32 bits, IPv6 in 128. */
export interface IpAddressValue {
  family: 4 | 6;
  value: bigint;
}

/** One `allow_hosts` entry, parsed and made comparable (lower case, no trailing dot). */
export type AllowHostEntry =
  | { kind: 'name'; name: string }
  /** Every name that ends in `.${domain}` (not the domain itself). */
  | { kind: 'wildcard'; domain: string }
  | { kind: 'address'; address: IpAddressValue }
  /** `network` has its host bits cleared. */
  | { kind: 'range'; network: IpAddressValue; prefix: number };

/** Why an entry is not acceptable, as a sentence that quotes the entry. */
export interface AllowHostEntryProblem {
  problem: string;
}

/** Host names of cloud instance-metadata services: no `allow_hosts` entry may reach them. */
export const METADATA_HOST_NAMES: readonly string[] = [
  // Google Cloud; `metadata` is how its search domain lets VMs write it.
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  // AWS EC2.
  'instance-data',
  'instance-data.ec2.internal',
  // Tencent Cloud, IBM Cloud VPC, Equinix Metal (formerly Packet).
  'metadata.tencentyun.com',
  'api.metadata.cloud.ibm.com',
  'metadata.platformequinix.com',
  'metadata.packet.net',
];

/** Addresses of cloud instance-metadata services: no `allow_hosts` entry may reach them. */
export const METADATA_ADDRESSES: readonly string[] = [
  // AWS, Google Cloud, Azure, Oracle, OpenStack, DigitalOcean, IBM, Hetzner and more.
  '169.254.169.254',
  // AWS ECS task credentials, and AWS EKS Pod Identity.
  '169.254.170.2',
  '169.254.170.23',
  // Tencent Cloud.
  '169.254.0.23',
  // Alibaba Cloud.
  '100.100.100.200',
  // Azure WireServer (the VM agent's certificates and settings).
  '168.63.129.16',
  // AWS instance metadata and EKS Pod Identity over IPv6.
  'fd00:ec2::254',
  'fd00:ec2::23',
];

/** How an IPv6 address carries an IPv4 address (see {@link ipv4AddressesCarriedBy}). */
export type IPv4CarryingForm =
  | 'mapped'
  | 'translated'
  | 'compatible'
  | 'nat64'
  | 'nat64_local'
  | '6to4'
  | 'teredo_server'
  | 'teredo_client'
  | 'isatap';

/** One IPv4 address found inside an IPv6 address, and where it was found. */
export interface CarriedIPv4 {
  form: IPv4CarryingForm;
  /** The IPv4 address, 32 bits. */
  value: bigint;
}

/** Parses an IPv4 or IPv6 address as written (no brackets, no zone); undefined if it is none. */
export function parseIpAddress(text: string): IpAddressValue | undefined {
  if (text.includes('%')) return undefined;
  const family = isIP(text);
  if (family === 4) return { family: 4, value: ipv4Value(text) };
  if (family === 6) return { family: 6, value: ipv6Value(text) };
  return undefined;
}

/** An IPv4 address in dotted form. */
export function formatIPv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

/** True when `address` lies in `network/prefix` (both of the same family). */
export function rangeContains(
  network: IpAddressValue,
  prefix: number,
  address: IpAddressValue,
): boolean {
  if (network.family !== address.family) return false;
  const hostBits = BigInt(bitsIn(address.family) - prefix);
  return network.value >> hostBits === address.value >> hostBits;
}

const WELL_KNOWN_NAT64 = constantAddress('64:ff9b::');
const LOCAL_NAT64 = constantAddress('64:ff9b:1::');
const SIX_TO_FOUR = constantAddress('2002::');
const TEREDO = constantAddress('2001::');
const LOW_32_BITS = 0xffffffffn;

/**
 * Every IPv4 address an IPv6 address may carry and reach: IPv4-mapped (`::ffff:a.b.c.d`),
 * SIIT-translated (`::ffff:0:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`,
 * and `64:ff9b:1::/48`, whose prefix length the network chooses, so each RFC 6052 position is
 * a candidate), 6to4 (`2002::/16`, bits 16–47), Teredo (`2001::/32`: the server in bits 32–63,
 * the client in the last 32 bits inverted) and ISATAP interface identifiers (`…:0:5efe:a.b.c.d`,
 * `…:200:5efe:a.b.c.d`) behind any prefix.
 */
export function ipv4AddressesCarriedBy(address: IpAddressValue): CarriedIPv4[] {
  if (address.family !== 6) return [];
  const { value } = address;
  const high96 = value >> 32n;
  const low32 = value & LOW_32_BITS;
  const carried: CarriedIPv4[] = [];
  if (high96 === 0xffffn) carried.push({ form: 'mapped', value: low32 });
  if (high96 === 0xffff0000n) carried.push({ form: 'translated', value: low32 });
  // `::` and `::1` are IPv6's own unspecified and loopback addresses, not IPv4-compatible ones.
  if (high96 === 0n && low32 > 0xffffn) carried.push({ form: 'compatible', value: low32 });
  if (rangeContains(WELL_KNOWN_NAT64, 96, address)) carried.push({ form: 'nat64', value: low32 });
  if (rangeContains(LOCAL_NAT64, 48, address)) {
    for (const prefix of [48, 56, 64, 96]) {
      carried.push({ form: 'nat64_local', value: rfc6052IPv4(value, prefix) });
    }
  }
  if (rangeContains(SIX_TO_FOUR, 16, address)) {
    carried.push({ form: '6to4', value: bitsAt(value, 16, 32) });
  }
  if (rangeContains(TEREDO, 32, address)) {
    carried.push({ form: 'teredo_server', value: bitsAt(value, 32, 32) });
    carried.push({ form: 'teredo_client', value: low32 ^ LOW_32_BITS });
  }
  // Bits 64–95 are 0000:5efe, give or take the universal/group bits of the identifier.
  if ((bitsAt(value, 64, 32) & 0xfcffffffn) === 0x5efen) {
    carried.push({ form: 'isatap', value: low32 });
  }
  return carried;
}

const METADATA_NAMES = new Set(METADATA_HOST_NAMES);
const METADATA_KEYS = new Set(METADATA_ADDRESSES.map((text) => addressKey(constantAddress(text))));

/** True for the host name of a cloud metadata service (case and a trailing dot ignored). */
export function isMetadataHostName(name: string): boolean {
  return METADATA_NAMES.has(comparableName(name));
}

/** True when `address` is a cloud metadata address, or an IPv6 address that carries one. */
export function isMetadataAddress(address: IpAddressValue): boolean {
  return METADATA_KEYS.has(addressKey(address)) || carriedMetadataAddress(address) !== undefined;
}

function carriedMetadataAddress(address: IpAddressValue): string | undefined {
  for (const { value } of ipv4AddressesCarriedBy(address)) {
    if (METADATA_KEYS.has(addressKey({ family: 4, value }))) return formatIPv4(value);
  }
  return undefined;
}

/** A string that is equal for two equal addresses, to keep addresses in a `Set`. */
export function addressKey(address: IpAddressValue): string {
  return `${address.family}/${address.value.toString(16)}`;
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Domains no one can register publicly, so a wildcard over them stays inside one network. */
const PRIVATE_USE_DOMAINS = new Set(['internal', 'local', 'localhost']);
const LINK_LOCAL_IPV4 = constantAddress('169.254.0.0');

/** Parses one `allow_hosts` entry, or says what is wrong with it. */
export function parseAllowHostEntry(entry: string): AllowHostEntry | AllowHostEntryProblem {
  const got = `(got ${JSON.stringify(entry)})`;
  const invalid = {
    problem: `must be a host name, *.domain, an IP address or a CIDR range ${got}`,
  };
  const slash = entry.indexOf('/');
  if (slash !== -1) {
    const base = entry.slice(0, slash);
    if (base.startsWith('[') && base.endsWith(']') && isIP(base.slice(1, -1)) === 6) {
      return { problem: `a CIDR range is written without brackets, such as "fd00::/8" ${got}` };
    }
    const network = parseIpAddress(base);
    // A slash after anything but an address is no range: a URL, a path, a typo.
    if (!network) return invalid;
    return parseRange(entry, network, entry.slice(slash + 1));
  }
  const bracketed = entry.startsWith('[') && entry.endsWith(']');
  const address = parseIpAddress(bracketed ? entry.slice(1, -1) : entry);
  if (address && (!bracketed || address.family === 6)) {
    return metadataProblem(entry, address) ?? { kind: 'address', address };
  }
  if (bracketed) return invalid;
  const name = comparableName(entry);
  if (name.startsWith('*.')) {
    const domain = name.slice(2);
    if (!isHostName(domain)) return invalid;
    if (!domain.includes('.') && !PRIVATE_USE_DOMAINS.has(domain)) {
      return {
        problem: `a wildcard must cover a domain of at least two labels, such as "*.corp.example" ${got}`,
      };
    }
    return { kind: 'wildcard', domain };
  }
  if (!isHostName(name)) return invalid;
  if (METADATA_NAMES.has(name)) {
    return {
      problem: `${JSON.stringify(entry)} is a cloud metadata host name, which allow_hosts can never permit`,
    };
  }
  return { kind: 'name', name };
}

/** What is wrong with one `allow_hosts` entry, or undefined when it is a good one. */
export function allowHostEntryProblem(entry: string): string | undefined {
  const parsed = parseAllowHostEntry(entry);
  return 'problem' in parsed ? parsed.problem : undefined;
}

/** The zod schema of one `allow_hosts` entry: a string {@link parseAllowHostEntry} accepts. */
export const allowHostEntrySchema = z.string().superRefine((entry, context) => {
  const problem = allowHostEntryProblem(entry);
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
});

function parseRange(
  entry: string,
  network: IpAddressValue,
  prefixText: string,
): AllowHostEntry | AllowHostEntryProblem {
  const got = `(got ${JSON.stringify(entry)})`;
  const maximum = bitsIn(network.family);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= maximum)) {
    return { problem: `prefix length must be 0–${maximum} ${got}` };
  }
  if (prefix === 0) {
    return {
      problem: `a /0 range would allow every IPv${network.family} address; list the ranges you mean ${got}`,
    };
  }
  const hostBits = BigInt(maximum - prefix);
  const cleared = { family: network.family, value: (network.value >> hostBits) << hostBits };
  // A range of one address is that address, and may not name a metadata address either.
  if (prefix === maximum) {
    const problem = metadataProblem(entry, cleared);
    if (problem) return problem;
  }
  if (prefix >= 16 && rangeContains(LINK_LOCAL_IPV4, 16, cleared)) {
    return {
      problem: `ranges never reach into 169.254.0.0/16, where cloud metadata services live; list each link-local address instead ${got}`,
    };
  }
  return { kind: 'range', network: cleared, prefix };
}

function metadataProblem(
  entry: string,
  address: IpAddressValue,
): AllowHostEntryProblem | undefined {
  const quoted = JSON.stringify(entry);
  if (METADATA_KEYS.has(addressKey(address))) {
    return { problem: `${quoted} is a cloud metadata address, which allow_hosts can never permit` };
  }
  const carried = carriedMetadataAddress(address);
  if (carried === undefined) return undefined;
  return {
    problem: `${quoted} carries the cloud metadata address ${carried}, which allow_hosts can never permit`,
  };
}

function isHostName(name: string): boolean {
  const labels = name.split('.');
  // An all-digit last label would read as a (shortened) IPv4 address to some resolvers.
  return (
    name.length <= 253 &&
    labels.every((label) => LABEL.test(label)) &&
    !/^\d+$/.test(labels.at(-1) ?? '')
  );
}

function comparableName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

function bitsIn(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

/** `length` bits of a 128-bit value starting at bit `start` (0 is the most significant). */
function bitsAt(value: bigint, start: number, length: number): bigint {
  return (value >> BigInt(128 - start - length)) & ((1n << BigInt(length)) - 1n);
}

/** Where RFC 6052 puts the IPv4 address behind a NAT64 prefix of `prefix` bits (bits 64–71 skipped). */
function rfc6052IPv4(value: bigint, prefix: number): bigint {
  if (prefix === 96) return value & LOW_32_BITS;
  const before = 64 - prefix;
  const after = 32 - before;
  return (bitsAt(value, prefix, before) << BigInt(after)) | bitsAt(value, 72, after);
}

function ipv4Value(text: string): bigint {
  return text.split('.').reduce((total, octet) => (total << 8n) | BigInt(Number(octet)), 0n);
}

function ipv6Value(text: string): bigint {
  let body = text;
  const lastColon = body.lastIndexOf(':');
  const tail = body.slice(lastColon + 1);
  if (tail.includes('.')) {
    const ipv4 = ipv4Value(tail);
    body = `${body.slice(0, lastColon + 1)}${(ipv4 >> 16n).toString(16)}:${(ipv4 & 0xffffn).toString(16)}`;
  }
  const [head = '', rest] = body.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? 0 : 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...restGroups];
  return groups.reduce((total, group) => (total << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
}

function constantAddress(text: string): IpAddressValue {
  const address = parseIpAddress(text);
  if (!address) throw new Error(`not an IP address: ${text}`);
  return address;
}
