export { METADATA_ADDRESSES, METADATA_HOST_NAMES } from '../../config/allow-host-entry.js';
export {
  addressFindings,
  classifyAddress,
  type AddressClass,
  type AddressFinding,
  type AddressKind,
} from './address-class.js';
export { assertPublicAddress, type AddressPolicy } from './assert-public-address.js';
export { HostAllowList } from './host-allow-list.js';
export { embeddedIPv4Addresses, normalizeHost } from './ip-address.js';
export { assertOpenedInside, openForAppend } from './open-inside-directory.js';
export { pinnedLookup } from './pinned-lookup.js';
export { readCappedBody, type CappedBody } from './read-capped-body.js';
export { resolveInsideDirectory, type PathInsideDirectory } from './resolve-inside-directory.js';
export { resolveWithSystem, type ResolveHost, type ResolvedAddress } from './resolve-host.js';
export { safeConnect, type ConnectResult, type SafeConnectOptions } from './safe-connect.js';
export {
  DEFAULT_MAX_REDIRECTS,
  httpUrl,
  safeFetch,
  type SafeFetchOptions,
  type SafeFetchResponse,
} from './safe-fetch.js';
