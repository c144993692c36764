import {
  addressKey,
  isMetadataAddress,
  isMetadataHostName,
  parseAllowHostEntry,
  rangeContains,
  type IpAddressValue,
} from '../../config/allow-host-entry.js';
import { NightshiftError } from '../../errors.js';
import { addressValue, normalizeHost } from './ip-address.js';

/**
 * The hosts an operator allows besides public addresses (`allow_hosts`): host names
 * (`localhost`, `*.internal.example` for its subdomains), IP addresses and CIDR ranges, parsed
 * by `parseAllowHostEntry` exactly as the agent definition was checked. Nothing here ever allows
 * a cloud metadata host name or address, whatever the entries say.
 */
export class HostAllowList {
  readonly #names = new Set<string>();
  readonly #domains: string[] = [];
  readonly #addresses = new Set<string>();
  readonly #ranges: Array<{ network: IpAddressValue; prefix: number }> = [];

  /** Parses the entries; one `parseAllowHostEntry` refuses is a `config_invalid` error naming it. */
  constructor(entries: readonly string[] = []) {
    for (const entry of entries) {
      const parsed = parseAllowHostEntry(entry);
      if ('problem' in parsed) throw invalidEntry(parsed.problem);
      if (parsed.kind === 'name') this.#names.add(parsed.name);
      else if (parsed.kind === 'wildcard') this.#domains.push(parsed.domain);
      else if (parsed.kind === 'address') this.#addresses.add(addressKey(parsed.address));
      else this.#ranges.push({ network: parsed.network, prefix: parsed.prefix });
    }
  }

  /** True when the host name itself is listed, or lies under a listed `*.` domain. */
  allowsName(host: string): boolean {
    const name = normalizeHost(host);
    if (isMetadataHostName(name)) return false;
    return this.#names.has(name) || this.#domains.some((domain) => name.endsWith(`.${domain}`));
  }

  /**
   * True when the address is listed, or inside a listed CIDR range unless `exactOnly` (the
   * caller asks for that for link-local IPv4 addresses). Never true for a metadata address.
   */
  allowsAddress(address: string, exactOnly: boolean): boolean {
    const value = addressValue(address);
    if (!value || isMetadataAddress(value)) return false;
    if (this.#addresses.has(addressKey(value))) return true;
    return (
      !exactOnly &&
      this.#ranges.some(({ network, prefix }) => rangeContains(network, prefix, value))
    );
  }
}

function invalidEntry(problem: string): NightshiftError {
  const message = `allow_hosts: ${problem}`;
  return new NightshiftError('config_invalid', message, {
    fields: [{ path: 'allow_hosts', message: problem }],
  });
}
