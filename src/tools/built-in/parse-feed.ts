import type * as FastXmlParser from 'fast-xml-parser';
import { lazyRequire } from '../../shared/lazy-module.js';
import { NightshiftError } from '../../errors.js';
import { htmlToText } from './response-content.js';

/** One feed item, with HTML already stripped from its title and summary. */
export interface FeedItem {
  title: string | null;
  link: string | null;
  /** ISO 8601, or null when the item has no readable date. */
  published: string | null;
  summary: string | null;
}

/** A parsed RSS 2.0, RSS 1.0 (RDF) or Atom feed, items in document order. */
export interface ParsedFeed {
  format: 'rss' | 'rdf' | 'atom';
  title: string | null;
  link: string | null;
  items: FeedItem[];
}

const ARRAY_TAGS = new Set(['item', 'entry', 'link']);

/** fast-xml-parser, loaded by the first feed read rather than with the package. */
const fastXmlParser = lazyRequire<typeof FastXmlParser>('fast-xml-parser');
let parser: FastXmlParser.XMLParser | undefined;

/** The parser, made at the first feed. */
function feedParser(): FastXmlParser.XMLParser {
  parser ??= new (fastXmlParser().XMLParser)({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    textNodeName: '#text',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    htmlEntities: true,
    isArray: (name) => ARRAY_TAGS.has(name),
    // Entity expansion is bounded so a hostile feed cannot balloon in memory.
    processEntities: { maxTotalExpansions: 10_000, maxExpandedLength: 1_000_000 },
  });
  return parser;
}

type Node = Record<string, unknown>;

const isNode = (value: unknown): value is Node =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function textOf(value: unknown): string | null {
  if (Array.isArray(value)) return textOf(value[0]);
  if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (isNode(value)) return textOf(value['#text']);
  return null;
}

/** Text that may hold HTML (Atom `type="html"`, RSS descriptions) as plain text. */
function plainText(value: unknown): string | null {
  const text = textOf(value);
  if (text === null) return null;
  const plain = (/[<&]/.test(text) ? htmlToText(text) : text).replace(/\s+/g, ' ').trim();
  return plain === '' ? null : plain;
}

function isoDate(value: unknown): string | null {
  const text = textOf(value);
  if (text === null) return null;
  const time = Date.parse(text);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

function absolute(link: string | null, base: string): string | null {
  if (link === null) return null;
  try {
    return new URL(link, base).href;
  } catch {
    return link;
  }
}

function atomLink(value: unknown): string | null {
  const links = (Array.isArray(value) ? value : [value]).filter(isNode);
  const alternate =
    links.find((link) => link['@_rel'] === undefined || link['@_rel'] === 'alternate') ?? links[0];
  return alternate ? textOf(alternate['@_href']) : textOf(value);
}

function rssLink(item: Node): string | null {
  const links = (Array.isArray(item.link) ? item.link : [item.link]).map(textOf);
  const link = links.find((candidate) => candidate !== null) ?? null;
  if (link !== null) return link;
  const guid = item.guid;
  const permalink = !isNode(guid) || guid['@_isPermaLink'] !== 'false';
  return permalink ? textOf(guid) : null;
}

/**
 * Parses feed XML. `baseUrl` (the feed's own URL) makes relative links absolute. Throws a
 * `tool_error` naming the problem when the document is not a feed.
 */
export function parseFeed(xml: string, baseUrl: string): ParsedFeed {
  let document: Node;
  try {
    document = feedParser().parse(xml) as Node;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new NightshiftError('tool_error', `the feed is not well-formed XML: ${reason}`);
  }
  const rss = document.rss;
  if (isNode(rss) && isNode(rss.channel)) {
    const channel = rss.channel;
    return {
      format: 'rss',
      title: plainText(channel.title),
      link: absolute(rssLink(channel), baseUrl),
      items: nodes(channel.item).map((item) => rssItem(item, baseUrl)),
    };
  }
  const rdf = document['rdf:RDF'];
  if (isNode(rdf)) {
    const channel = isNode(rdf.channel) ? rdf.channel : {};
    return {
      format: 'rdf',
      title: plainText(channel.title),
      link: absolute(rssLink(channel), baseUrl),
      items: nodes(rdf.item).map((item) => rssItem(item, baseUrl)),
    };
  }
  const feed = document.feed;
  if (isNode(feed)) {
    return {
      format: 'atom',
      title: plainText(feed.title),
      link: absolute(atomLink(feed.link), baseUrl),
      items: nodes(feed.entry).map((entry) => ({
        title: plainText(entry.title),
        link: absolute(atomLink(entry.link), baseUrl),
        published: isoDate(entry.published ?? entry.updated),
        summary: plainText(entry.summary ?? entry.content),
      })),
    };
  }
  throw new NightshiftError(
    'tool_error',
    'the document is not an RSS or Atom feed (no <rss><channel>, <rdf:RDF> or <feed> root)',
  );
}

function nodes(value: unknown): Node[] {
  return (Array.isArray(value) ? value : [value]).filter(isNode);
}

function rssItem(item: Node, baseUrl: string): FeedItem {
  return {
    title: plainText(item.title),
    link: absolute(rssLink(item), baseUrl),
    published: isoDate(item.pubDate ?? item['dc:date'] ?? item['atom:updated']),
    summary: plainText(item.description ?? item['content:encoded']),
  };
}
