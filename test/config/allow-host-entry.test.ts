import { describe, expect, it } from 'vitest';
import { allowHostEntryProblem, parseAllowHostEntry } from '../../src/config/allow-host-entry.js';
import { checkAgentDefinition } from '../../src/config/parse-agent-definition.js';

function definitionWith(allowHosts: unknown[]) {
  return {
    agent_id: 'a',
    interval: 60,
    model_config: { provider: 'scripted', script: [{ answer: 'x' }] },
    task_config: { query: 'q' },
    allow_hosts: allowHosts,
  };
}

function fieldErrors(allowHosts: unknown[]): Record<string, string> {
  const { fields } = checkAgentDefinition(definitionWith(allowHosts), { env: {} });
  return Object.fromEntries(fields.map((field) => [field.path, field.message]));
}

describe('allow_hosts in an agent definition', () => {
  it('accepts host names, wildcards, addresses and ranges', () => {
    const entries = [
      'localhost',
      'DB.Internal.Example.',
      '*.corp.example',
      '*.internal',
      '127.0.0.1',
      '::1',
      '[fd12::1]',
      '10.0.0.0/8',
      'fd00::/8',
      '169.254.7.7',
    ];
    const { definition, fields } = checkAgentDefinition(definitionWith(entries), { env: {} });
    expect(fields).toEqual([]);
    expect(definition?.allow_hosts).toEqual(entries);
  });

  it('names the bad entry by its path and says what is wrong', () => {
    expect(fieldErrors(['not a host!!', '10.0.0.0/8', '10.0.0.0/99'])).toEqual({
      'allow_hosts[0]':
        'must be a host name, *.domain, an IP address or a CIDR range (got "not a host!!")',
      'allow_hosts[2]': 'prefix length must be 0–32 (got "10.0.0.0/99")',
    });
  });

  it.each([
    ['fd00::/129', 'prefix length must be 0–128 (got "fd00::/129")'],
    ['10.0.0.0/-1', 'prefix length must be 0–32 (got "10.0.0.0/-1")'],
    ['10.0.0.0/', 'prefix length must be 0–32 (got "10.0.0.0/")'],
    [
      '0.0.0.0/0',
      'a /0 range would allow every IPv4 address; list the ranges you mean (got "0.0.0.0/0")',
    ],
    ['::/0', 'a /0 range would allow every IPv6 address; list the ranges you mean (got "::/0")'],
    [
      '[fd00::]/8',
      'a CIDR range is written without brackets, such as "fd00::/8" (got "[fd00::]/8")',
    ],
    [
      '169.254.0.0/16',
      'ranges never reach into 169.254.0.0/16, where cloud metadata services live; list each link-local address instead (got "169.254.0.0/16")',
    ],
    [
      '*.com',
      'a wildcard must cover a domain of at least two labels, such as "*.corp.example" (got "*.com")',
    ],
    [
      'metadata.google.internal',
      '"metadata.google.internal" is a cloud metadata host name, which allow_hosts can never permit',
    ],
    [
      '169.254.169.254',
      '"169.254.169.254" is a cloud metadata address, which allow_hosts can never permit',
    ],
    [
      'fd00:ec2::254/128',
      '"fd00:ec2::254/128" is a cloud metadata address, which allow_hosts can never permit',
    ],
    [
      '::ffff:a9fe:a9fe',
      '"::ffff:a9fe:a9fe" carries the cloud metadata address 169.254.169.254, which allow_hosts can never permit',
    ],
    ['', 'must be a host name, *.domain, an IP address or a CIDR range (got "")'],
  ])('refuses %j', (entry, message) => {
    expect(fieldErrors([entry])).toEqual({ 'allow_hosts[0]': message });
  });

  it('refuses an entry that is not a string', () => {
    expect(fieldErrors([42])).toEqual({ 'allow_hosts[0]': 'must be a string' });
  });
});

describe('parseAllowHostEntry', () => {
  it('parses each kind of entry, made comparable', () => {
    expect(parseAllowHostEntry('DB.Internal.Example.')).toEqual({
      kind: 'name',
      name: 'db.internal.example',
    });
    expect(parseAllowHostEntry('*.Corp.Example')).toEqual({
      kind: 'wildcard',
      domain: 'corp.example',
    });
    expect(parseAllowHostEntry('[::1]')).toEqual({
      kind: 'address',
      address: { family: 6, value: 1n },
    });
    expect(parseAllowHostEntry('10.1.2.3/8')).toEqual({
      kind: 'range',
      network: { family: 4, value: 0x0a000000n },
      prefix: 8,
    });
  });

  it.each([
    'exa_mple.com',
    '-bad.example',
    'bad-.example',
    `${'a'.repeat(64)}.example`,
    '1.2.3',
    '999.1.1.1',
    '010.0.0.1',
    'fe80::1%eth0',
    '[10.0.0.1]',
    'example.com/24',
    '10.0.0.0.0/8',
    '*',
    '*.*.example',
    'http://example.com',
    'example.com:8080',
    ' example.com',
  ])('refuses %j as neither a host name, a wildcard, an address nor a range', (entry) => {
    expect(allowHostEntryProblem(entry)).toBe(
      `must be a host name, *.domain, an IP address or a CIDR range (got ${JSON.stringify(entry)})`,
    );
  });

  it('returns no problem for a good entry', () => {
    expect(allowHostEntryProblem('*.c.my-project.internal')).toBeUndefined();
    expect(allowHostEntryProblem('2001:db8::/32')).toBeUndefined();
  });
});
