import { describe, expect, it } from 'vitest';
import {
  assertPublicAddress,
  classifyAddress,
  embeddedIPv4Addresses,
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

  it('finds the IPv4 addresses inside IPv6 addresses', () => {
    expect(embeddedIPv4Addresses('::ffff:10.1.2.3')).toEqual(['10.1.2.3']);
    expect(embeddedIPv4Addresses('::ffff:a01:203')).toEqual(['10.1.2.3']);
    expect(embeddedIPv4Addresses('::ffff:0:a01:203')).toEqual(['10.1.2.3']);
    expect(embeddedIPv4Addresses('::a01:203')).toEqual(['10.1.2.3']);
    expect(embeddedIPv4Addresses('64:ff9b::808:808')).toEqual(['8.8.8.8']);
    expect(embeddedIPv4Addresses('2002:a01:203::5')).toEqual(['10.1.2.3']);
    expect(embeddedIPv4Addresses('2001:0:4136:e378:8000:63bf:80ff:fffe')).toEqual([
      '65.54.227.120',
      '127.0.0.1',
    ]);
    expect(embeddedIPv4Addresses('fe80::200:5efe:a01:203')).toEqual(['10.1.2.3']);
    expect(embeddedIPv4Addresses('fe80::1%eth0')).toEqual([]);
    expect(embeddedIPv4Addresses('::1')).toEqual([]);
    expect(embeddedIPv4Addresses('::')).toEqual([]);
    expect(embeddedIPv4Addresses('2001:db8::1')).toEqual([]);
    expect(embeddedIPv4Addresses('10.1.2.3')).toEqual([]);
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

  it('never allows a metadata address, whether a range covers it or it is listed itself', async () => {
    await expect(
      assertPublicAddress('169.254.169.254', { allowHosts: ['169.0.0.0/8'], resolve: noDns }),
    ).rejects.toThrow(
      'refused: 169.254.169.254 is a cloud metadata address (allow_hosts can never permit it)',
    );
    await expect(
      assertPublicAddress('169.254.169.254', { allowHosts: ['169.254.169.254'], resolve: noDns }),
    ).rejects.toThrow(
      'allow_hosts: "169.254.169.254" is a cloud metadata address, which allow_hosts can never permit',
    );
  });

  it('rejects a malformed allow_hosts entry as config_invalid, naming it', () => {
    expect(() => new HostAllowList(['10.0.0.0/33'])).toThrow(
      'allow_hosts: prefix length must be 0–32 (got "10.0.0.0/33")',
    );
    expect(() => new HostAllowList(['http://x'])).toThrow(
      'allow_hosts: must be a host name, *.domain, an IP address or a CIDR range (got "http://x")',
    );
    expect(() => new HostAllowList(['169.254.0.0/16'])).toThrow(
      'allow_hosts: ranges never reach into 169.254.0.0/16',
    );
    try {
      new HostAllowList(['not a host!!']);
    } catch (error) {
      expect(error).toMatchObject({ code: 'config_invalid' });
    }
    expect.assertions(4);
  });
});

describe('IPv6 addresses that carry an IPv4 address', () => {
  it.each([
    // IPv4-mapped, in dotted and in hex form.
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    // IPv4-compatible (deprecated, still parsed by stacks).
    ['::169.254.169.254', 'metadata'],
    ['::127.0.0.1', 'loopback'],
    // SIIT IPv4-translated (::ffff:0:a.b.c.d).
    ['::ffff:0:169.254.169.254', 'metadata'],
    ['::ffff:0:7f00:1', 'loopback'],
    ['::ffff:0:10.1.2.3', 'private'],
    // NAT64, the well-known prefix and the local-use /48 (IPv4 at bits 96–127 or 48–87).
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b:1::a9fe:a9fe', 'metadata'],
    ['64:ff9b:1:a9fe:a9:fe00::', 'metadata'],
    ['64:ff9b:1::808:808', 'private'],
    // 6to4: the IPv4 address is bits 16–47.
    ['2002:a9fe:a9fe::1', 'metadata'],
    ['2002:a00:1::1', 'private'],
    // Teredo: the server is bits 32–63, the client the last 32 bits inverted.
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'loopback'],
    ['2001:0:4136:e378:8000:63bf:5601:5601', 'metadata'],
    ['2001:0:4136:e378:8000:63bf:f5ff:fffe', 'private'],
    ['2001:0:a9fe:a9fe:8000:63bf:f7f7:f7f7', 'metadata'],
    // ISATAP interface identifiers (0:5efe and 200:5efe) behind any prefix.
    ['2600::5efe:169.254.169.254', 'metadata'],
    ['2600::200:5efe:127.0.0.1', 'loopback'],
    ['2600:1::5efe:a00:1', 'private'],
    ['fe80::5efe:8.8.8.8', 'link_local'],
  ])('%s is %s, like the IPv4 address it carries', (address, kind) => {
    expect(classifyAddress(address)?.kind).toBe(kind);
  });

  it.each([
    '2001:0:4136:e378:8000:63bf:f7f7:f7f7',
    '2002:808:808::1',
    '64:ff9b::808:808',
    '::ffff:0:8.8.8.8',
    '2600::5efe:8.8.8.8',
  ])('%s carries a public IPv4 address and is public', (address) => {
    expect(classifyAddress(address)).toBeUndefined();
  });

  it('refuses a Teredo address carrying 127.0.0.1 unless 127.0.0.1 is allowed', async () => {
    const teredo = '2001:0:4136:e378:8000:63bf:80ff:fffe';
    await expect(assertPublicAddress(teredo, { resolve: fakeDns({}) })).rejects.toThrow(
      `refused: ${teredo} is a loopback address, as it carries 127.0.0.1`,
    );
    await expect(
      assertPublicAddress(teredo, { allowHosts: ['127.0.0.1'], resolve: fakeDns({}) }),
    ).resolves.toHaveLength(1);
  });

  it.each([
    ['2001:0:4136:e378:8000:63bf:5601:5601', '2001::/32'],
    ['::ffff:169.254.169.254', '::ffff:0:0/96'],
    ['64:ff9b::a9fe:a9fe', '64:ff9b::/96'],
    ['2002:a9fe:a9fe::1', '2002::/16'],
    ['2600::5efe:169.254.169.254', '2600::/16'],
  ])('never lets a range allow %s, which carries a metadata address', async (address, range) => {
    await expect(
      assertPublicAddress(address, { allowHosts: [range], resolve: fakeDns({}) }),
    ).rejects.toThrow(`refused: ${address} is a cloud metadata address, as it carries`);
  });
});

describe('allow_hosts never opens cloud metadata', () => {
  it('a wildcard does not cover metadata host names, and nothing is resolved', async () => {
    const dns = fakeDns({ 'metadata.google.internal': ['169.254.169.254'] });
    for (const allowHosts of [['*.internal'], ['*.google.internal']]) {
      await expect(
        assertPublicAddress('metadata.google.internal', { allowHosts, resolve: dns }),
      ).rejects.toThrow(
        'refused: metadata.google.internal is a cloud metadata host name (allow_hosts can never permit it)',
      );
    }
    expect(dns.calls).toEqual([]);
  });

  it('a wildcard still covers the other names of its domain', async () => {
    const dns = fakeDns({ 'db.c.project.internal': ['10.1.1.1'] });
    await expect(
      assertPublicAddress('db.c.project.internal', { allowHosts: ['*.internal'], resolve: dns }),
    ).resolves.toEqual([{ address: '10.1.1.1', family: 4 }]);
  });

  it('a listed name that resolves to a metadata address is refused', async () => {
    const dns = fakeDns({ 'db.internal.test': ['10.0.0.5', '169.254.169.254'] });
    await expect(
      assertPublicAddress('db.internal.test', { allowHosts: ['db.internal.test'], resolve: dns }),
    ).rejects.toThrow(
      'refused: db.internal.test resolves to 169.254.169.254, a cloud metadata address (allow_hosts can never permit it)',
    );
  });

  it.each([
    '169.254.169.254',
    '169.254.170.2',
    '100.100.100.200',
    'fd00:ec2::254',
    '[fd00:ec2::254]',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '169.254.169.254/32',
    'metadata.google.internal',
    'METADATA.GOOGLE.INTERNAL.',
    'metadata',
    'metadata.goog',
    'instance-data',
    'instance-data.ec2.internal',
  ])('refuses the allow_hosts entry %s, naming metadata', (entry) => {
    expect(() => new HostAllowList([entry])).toThrow(/cloud metadata (address|host name)/);
  });

  it.each([
    ['169.254.169.254', '169.0.0.0/8'],
    ['100.100.100.200', '100.64.0.0/10'],
    ['fd00:ec2::254', 'fd00::/8'],
    ['169.254.170.2', '128.0.0.0/1'],
  ])('never lets a range allow %s (listed: %s)', async (address, range) => {
    await expect(
      assertPublicAddress(address, { allowHosts: [range], resolve: fakeDns({}) }),
    ).rejects.toThrow(`refused: ${address} is a cloud metadata address`);
  });

  it('lets ranges cover no link-local IPv4 address: list each one', async () => {
    const noDns = fakeDns({});
    await expect(
      assertPublicAddress('169.254.7.7', { allowHosts: ['169.0.0.0/8'], resolve: noDns }),
    ).rejects.toThrow('refused: 169.254.7.7 is a link-local address');
    await expect(
      assertPublicAddress('169.254.7.7', { allowHosts: ['169.254.7.7'], resolve: noDns }),
    ).resolves.toHaveLength(1);
    await expect(
      assertPublicAddress('::ffff:169.254.7.7', { allowHosts: ['169.254.7.7'], resolve: noDns }),
    ).resolves.toHaveLength(1);
    await expect(
      assertPublicAddress('fe80::1', { allowHosts: ['fe80::/10'], resolve: noDns }),
    ).resolves.toHaveLength(1);
  });
});
