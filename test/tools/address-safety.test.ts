import { describe, expect, it } from 'vitest';
import {
  assertPublicAddress,
  classifyAddress,
  embeddedIPv4,
  HostAllowList,
  type ResolveHost,
} from '../../src/tools/safety/index.js';

/** A resolver that answers from a table and never touches the network. */
function fakeDns(table: Record<string, string[]>): ResolveHost & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (host: string) => {
    calls.push(host);
    return (table[host] ?? []).map((address) => ({
      address,
      family: address.includes(':') ? (6 as const) : (4 as const),
    }));
  };
  return Object.assign(resolve, { calls });
}

describe('classifyAddress', () => {
  it.each([
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrier_grade_nat'],
    ['169.254.1.1', 'link_local'],
    ['fe80::1', 'link_local'],
    ['fd12:3456::1', 'unique_local'],
    ['fc00::1', 'unique_local'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['64:ff9b::a00:1', 'private'],
    ['2002:7f00:1::', 'loopback'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)?.kind).toBe(kind);
  });

  it.each(['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    '%s is public',
    (address) => {
      expect(classifyAddress(address)).toBeUndefined();
    },
  );

  it('finds the IPv4 address inside mapped and NAT64 IPv6 addresses', () => {
    expect(embeddedIPv4('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(embeddedIPv4('::ffff:a01:203')).toBe('10.1.2.3');
    expect(embeddedIPv4('64:ff9b::808:808')).toBe('8.8.8.8');
    expect(embeddedIPv4('::1')).toBeUndefined();
    expect(embeddedIPv4('2001:db8::1')).toBeUndefined();
  });
});

describe('assertPublicAddress', () => {
  const noDns = fakeDns({});

  it.each([
    ['169.254.169.254', 'refused: 169.254.169.254 is a cloud metadata address'],
    ['127.0.0.1', 'refused: 127.0.0.1 is a loopback address (add it to allow_hosts to permit it)'],
    ['[::1]', 'refused: ::1 is a loopback address'],
    ['10.0.0.1', 'refused: 10.0.0.1 is a private address'],
    ['::ffff:127.0.0.1', 'refused: ::ffff:127.0.0.1 is a loopback address'],
    ['[fd00:ec2::254]', 'refused: fd00:ec2::254 is a cloud metadata address'],
    ['100.100.100.200', 'refused: 100.100.100.200 is a cloud metadata address'],
  ])('refuses %s without asking DNS', async (host, message) => {
    await expect(assertPublicAddress(host, { resolve: noDns })).rejects.toThrow(message);
    expect(noDns.calls).toEqual([]);
  });

  it('refuses metadata and loopback host names before resolving them', async () => {
    const dns = fakeDns({ 'metadata.google.internal': ['8.8.8.8'], localhost: ['8.8.8.8'] });
    await expect(assertPublicAddress('metadata.google.internal', { resolve: dns })).rejects.toThrow(
      'refused: metadata.google.internal is a cloud metadata host name',
    );
    await expect(assertPublicAddress('LOCALHOST.', { resolve: dns })).rejects.toThrow(
      'refused: localhost is a loopback host name (add it to allow_hosts to permit it)',
    );
    await expect(assertPublicAddress('app.localhost', { resolve: dns })).rejects.toThrow(
      'loopback host name',
    );
    expect(dns.calls).toEqual([]);
  });

  it('refuses a name when ANY address it resolves to is not public', async () => {
    const dns = fakeDns({ 'mixed.example.test': ['93.184.216.34', '10.1.2.3'] });
    await expect(assertPublicAddress('mixed.example.test', { resolve: dns })).rejects.toThrow(
      'refused: mixed.example.test resolves to 10.1.2.3, a private address (add mixed.example.test or 10.1.2.3 to allow_hosts to permit it)',
    );
  });

  it('returns every checked address of a public name, to connect to those only', async () => {
    const dns = fakeDns({ 'www.example.test': ['93.184.216.34', '2606:2800:220:1::1'] });
    await expect(assertPublicAddress('www.example.test', { resolve: dns })).resolves.toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::1', family: 6 },
    ]);
  });

  it('lets allow_hosts permit addresses, ranges and names', async () => {
    const dns = fakeDns({ 'db.internal.test': ['10.9.8.7'], 'x.corp.test': ['192.168.3.3'] });
    await expect(
      assertPublicAddress('127.0.0.1', { allowHosts: ['127.0.0.1'], resolve: dns }),
    ).resolves.toEqual([{ address: '127.0.0.1', family: 4 }]);
    await expect(
      assertPublicAddress('::ffff:127.0.0.1', { allowHosts: ['127.0.0.1'], resolve: dns }),
    ).resolves.toHaveLength(1);
    await expect(
      assertPublicAddress('db.internal.test', { allowHosts: ['10.0.0.0/8'], resolve: dns }),
    ).resolves.toHaveLength(1);
    await expect(
      assertPublicAddress('x.corp.test', { allowHosts: ['*.corp.test'], resolve: dns }),
    ).resolves.toHaveLength(1);
    await expect(
      assertPublicAddress('localhost', {
        allowHosts: ['localhost'],
        resolve: fakeDns({ localhost: ['127.0.0.1'] }),
      }),
    ).resolves.toEqual([{ address: '127.0.0.1', family: 4 }]);
  });

  it('allows 127.0.0.1 without allowing ::1, other loopback addresses or localhost', async () => {
    const allowHosts = ['127.0.0.1'];
    await expect(assertPublicAddress('::1', { allowHosts, resolve: noDns })).rejects.toThrow(
      'refused: ::1',
    );
    await expect(assertPublicAddress('127.0.0.2', { allowHosts, resolve: noDns })).rejects.toThrow(
      'refused: 127.0.0.2',
    );
    await expect(
      assertPublicAddress('localhost', {
        allowHosts,
        resolve: fakeDns({ localhost: ['127.0.0.1'] }),
      }),
    ).rejects.toThrow('refused: localhost is a loopback host name');
  });

  it('never lets a CIDR range cover a metadata address; only the exact address does', async () => {
    await expect(
      assertPublicAddress('169.254.169.254', { allowHosts: ['169.254.0.0/16'], resolve: noDns }),
    ).rejects.toThrow('cloud metadata address');
    await expect(
      assertPublicAddress('169.254.169.254', { allowHosts: ['169.254.169.254'], resolve: noDns }),
    ).resolves.toHaveLength(1);
  });

  it('rejects a malformed allow_hosts entry, naming it', () => {
    expect(() => new HostAllowList(['10.0.0.0/33'])).toThrow('"10.0.0.0/33"');
    expect(() => new HostAllowList(['http://x'])).toThrow('allow_hosts: "http://x"');
  });
});
