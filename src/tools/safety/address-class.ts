import {
  formatIPv4,
  ipv4AddressesCarriedBy,
  METADATA_ADDRESSES,
  parseIpAddress,
  rangeContains,
  type IpAddressValue,
} from '../../config/allow-host-entry.js';
import { addressValue } from './ip-address.js';

/** Why an address is not a public internet address. */
export type AddressKind =
  | 'metadata'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'carrier_grade_nat'
  | 'link_local'
  | 'unique_local'
  | 'multicast'
  | 'reserved';

/** A non-public address's kind, and how a refusal message names it. */
export interface AddressClass {
  kind: AddressKind;
  /** "a loopback address", to follow "127.0.0.1 is". */
  description: string;
  /** For an IPv6 address judged by an IPv4 address it carries: that IPv4 address. */
  carries?: string;
}

/** One reason an address is not public: the address itself, or an IPv4 address it carries. */
export interface AddressFinding extends AddressClass {
  /** The address judged: the address itself (zone removed) or the IPv4 address it carries. */
  address: string;
}

type Range = readonly [address: string, prefix: number];

/** In order of severity: the first class an address falls in is the one a refusal names. */
const CLASSES: ReadonlyArray<readonly [AddressKind, string, readonly Range[]]> = [
  [
    'metadata',
    'a cloud metadata address',
    METADATA_ADDRESSES.map((address) => [address, address.includes(':') ? 128 : 32] as const),
  ],
  [
    'unspecified',
    'an unspecified address',
    [
      ['0.0.0.0', 8],
      ['::', 128],
    ],
  ],
  [
    'loopback',
    'a loopback address',
    [
      ['127.0.0.0', 8],
      ['::1', 128],
    ],
  ],
  [
    'private',
    'a private address',
    [
      ['10.0.0.0', 8],
      ['172.16.0.0', 12],
      ['192.168.0.0', 16],
      ['fec0::', 10],
      ['64:ff9b:1::', 48],
    ],
  ],
  ['carrier_grade_nat', 'a carrier-grade NAT address', [['100.64.0.0', 10]]],
  [
    'link_local',
    'a link-local address',
    [
      ['169.254.0.0', 16],
      ['fe80::', 10],
    ],
  ],
  ['unique_local', 'a unique-local address', [['fc00::', 7]]],
  [
    'multicast',
    'a multicast address',
    [
      ['224.0.0.0', 4],
      ['ff00::', 8],
    ],
  ],
  [
    'reserved',
    'a reserved address',
    [
      ['192.0.0.0', 24],
      ['192.0.2.0', 24],
      ['198.18.0.0', 15],
      ['198.51.100.0', 24],
      ['203.0.113.0', 24],
      ['240.0.0.0', 4],
      ['::', 96],
      ['100::', 64],
      ['2001:db8::', 32],
    ],
  ],
];

const COMPILED = CLASSES.map(([kind, description, ranges]) => ({
  kind,
  description,
  ranges: ranges.map(([address, prefix]) => {
    const network = parseIpAddress(address);
    if (!network) throw new Error(`not an IP address: ${address}`);
    return { network, prefix };
  }),
}));

function ownClass(address: IpAddressValue): AddressClass | undefined {
  for (const { kind, description, ranges } of COMPILED) {
    if (ranges.some(({ network, prefix }) => rangeContains(network, prefix, address))) {
      return { kind, description };
    }
  }
  return undefined;
}

function severity(kind: AddressKind): number {
  return CLASSES.findIndex(([candidate]) => candidate === kind);
}

/**
 * Every reason `address` is not public, most severe first; empty for a public address. An IPv6
 * address is judged by its own prefix and by each IPv4 address it carries (`::ffff:127.0.0.1`,
 * a Teredo client, a 6to4 router…), as that is where a packet to it may end up.
 */
export function addressFindings(address: string): AddressFinding[] {
  const bare = address.split('%')[0] ?? address;
  const value = addressValue(address);
  if (!value) return [{ address: bare, kind: 'reserved', description: 'not an IP address' }];
  const carried = ipv4AddressesCarriedBy(value);
  const findings: AddressFinding[] = [];
  // An IPv4-compatible address's own prefix (::/96) says only that it carries an IPv4 address.
  const own = carried.some(({ form }) => form === 'compatible') ? undefined : ownClass(value);
  if (own) findings.push({ address: bare, ...own });
  for (const { form, value: ipv4 } of carried) {
    const found = ownClass({ family: 4, value: ipv4 });
    // Where a local-use NAT64 prefix puts the IPv4 address depends on the prefix length its
    // network chose, so each position is only a guess: a guess counts when it is metadata.
    if (!found || (form === 'nat64_local' && found.kind !== 'metadata')) continue;
    const dotted = formatIPv4(ipv4);
    findings.push({ address: dotted, ...found, carries: dotted });
  }
  return findings.sort((first, second) => severity(first.kind) - severity(second.kind));
}

/**
 * What kind of non-public address `address` is, or undefined for a public one: the most severe
 * of its {@link addressFindings}, so `::ffff:127.0.0.1` is a loopback address.
 */
export function classifyAddress(address: string): AddressClass | undefined {
  const [first] = addressFindings(address);
  if (!first) return undefined;
  const { kind, description, carries } = first;
  return carries === undefined ? { kind, description } : { kind, description, carries };
}
