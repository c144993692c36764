import { BlockList, isIP } from 'node:net';
import { NightshiftError } from '../../errors.js';
import { embeddedIPv4, normalizeHost } from './ip-address.js';

const HOST_NAME = /^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;

/**
 * The hosts an operator allows besides public addresses (`allow_hosts`): host names
 * (`localhost`, `*.internal.example` for its subdomains), IP addresses and CIDR ranges.
 */
export class HostAllowList {
  readonly #names = new Set<string>();
  readonly #suffixes: string[] = [];
  readonly #addresses = new BlockList();
  readonly #ranges = new BlockList();

  /** Parses the entries; an entry that is neither a host name, an IP nor a CIDR is a `config_invalid` error. */
  constructor(entries: readonly string[] = []) {
    for (const entry of entries) this.#add(entry);
  }

  #add(entry: string): void {
    const [base = '', prefixText, ...extra] = entry.split('/');
    const host = normalizeHost(base);
    const family = isIP(host);
    if (prefixText !== undefined) {
      const prefix = Number(prefixText);
      const maximum = family === 4 ? 32 : 128;
      if (
        family === 0 ||
        extra.length > 0 ||
        !Number.isInteger(prefix) ||
        prefix < 0 ||
        prefix > maximum
      ) {
        throw invalidEntry(entry);
      }
      this.#ranges.addSubnet(host, prefix, family === 4 ? 'ipv4' : 'ipv6');
    } else if (family !== 0) {
      this.#addresses.addAddress(host, family === 4 ? 'ipv4' : 'ipv6');
    } else if (HOST_NAME.test(host)) {
      if (host.startsWith('*.')) this.#suffixes.push(host.slice(1));
      else this.#names.add(host);
    } else {
      throw invalidEntry(entry);
    }
  }

  /** True when the host name itself is listed: then every address it resolves to is allowed. */
  allowsName(host: string): boolean {
    const name = normalizeHost(host);
    return this.#names.has(name) || this.#suffixes.some((suffix) => name.endsWith(suffix));
  }

  /**
   * True when the address is listed, or inside a listed CIDR range. Ranges never cover a cloud
   * metadata address (`exactOnly`): a broad `169.254.0.0/16` should not hand out credentials.
   */
  allowsAddress(address: string, exactOnly: boolean): boolean {
    const candidates = [address.split('%')[0] ?? address];
    const embedded = embeddedIPv4(address);
    if (embedded !== undefined) candidates.push(embedded);
    return candidates.some((candidate) => {
      const type = isIP(candidate) === 4 ? 'ipv4' : 'ipv6';
      if (this.#addresses.check(candidate, type)) return true;
      return !exactOnly && this.#ranges.check(candidate, type);
    });
  }
}

function invalidEntry(entry: string): NightshiftError {
  const message = `allow_hosts: "${entry}" is not a host name, an IP address or a CIDR range`;
  return new NightshiftError('config_invalid', message, {
    fields: [{ path: 'allow_hosts', message }],
  });
}
