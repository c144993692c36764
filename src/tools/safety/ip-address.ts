import {
  formatIPv4,
  ipv4AddressesCarriedBy,
  parseIpAddress,
  type IpAddressValue,
} from '../../config/allow-host-entry.js';

/** A host as written in a URL or by a person, made comparable: lower case, no `[ ]`, no trailing dot. */
export function normalizeHost(host: string): string {
  const trimmed = host.trim().toLowerCase();
  const unbracketed =
    trimmed.startsWith('[') && trimmed.endsWith(']') ? trimmed.slice(1, -1) : trimmed;
  return unbracketed.endsWith('.') ? unbracketed.slice(0, -1) : unbracketed;
}

/** An address a resolver or a URL gave, as a number; a zone (`fe80::1%eth0`) names an interface, not part of it. */
export function addressValue(address: string): IpAddressValue | undefined {
  return parseIpAddress(address.split('%')[0] ?? address);
}

/**
 * The IPv4 addresses an IPv6 address carries and may route to (mapped, translated, compatible,
 * NAT64, 6to4, Teredo, ISATAP; see `ipv4AddressesCarriedBy`), in dotted form; none for others.
 */
export function embeddedIPv4Addresses(address: string): string[] {
  const value = addressValue(address);
  if (!value) return [];
  return [...new Set(ipv4AddressesCarriedBy(value).map((carried) => formatIPv4(carried.value)))];
}
