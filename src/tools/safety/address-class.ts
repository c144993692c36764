import { BlockList, isIP } from 'node:net';
import { embeddedIPv4 } from './ip-address.js';

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
}

/** Cloud instance-metadata endpoints (AWS, ECS, GCP, Azure, Alibaba): credentials live there. */
export const METADATA_ADDRESSES: readonly string[] = [
  '169.254.169.254',
  '169.254.170.2',
  'fd00:ec2::254',
  '100.100.100.200',
];

type Range = readonly [address: string, prefix: number];

const CLASSES: ReadonlyArray<readonly [AddressKind, string, readonly Range[]]> = [
  [
    'metadata',
    'a cloud metadata address',
    METADATA_ADDRESSES.map((address) => [address, isIP(address) === 4 ? 32 : 128] as const),
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

const LISTS = CLASSES.map(([kind, description, ranges]) => {
  const list = new BlockList();
  for (const [address, prefix] of ranges) {
    list.addSubnet(address, prefix, isIP(address) === 4 ? 'ipv4' : 'ipv6');
  }
  return { kind, description, list };
});

/**
 * What kind of non-public address `address` is, or undefined for a public one. An IPv6 address
 * that carries an IPv4 address (`::ffff:127.0.0.1`) is judged by the IPv4 address it reaches.
 */
export function classifyAddress(address: string): AddressClass | undefined {
  const family = isIP(address);
  if (family === 0) return { kind: 'reserved', description: 'not an IP address' };
  const embedded = family === 6 ? embeddedIPv4(address) : undefined;
  if (embedded !== undefined) return classifyAddress(embedded);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const bare = address.split('%')[0] ?? address;
  for (const { kind, description, list } of LISTS) {
    if (list.check(bare, type)) return { kind, description };
  }
  return undefined;
}
