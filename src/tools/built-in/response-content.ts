import type * as HtmlToText from 'html-to-text';
import { lazyRequire } from '../../shared/lazy-module.js';
import type { SafeFetchResponse } from '../safety/index.js';
import { byteCapMarker, truncateText } from './truncate-text.js';

/** A response body as a model reads it: parsed JSON, readable text from HTML, or plain text. */
export type ResponseContent =
  | { format: 'json'; body: unknown; truncated: false }
  | { format: 'html'; title?: string; body: string; truncated: boolean }
  | { format: 'text'; body: string; truncated: boolean; note?: string }
  | { format: 'binary'; body: null; truncated: boolean; note: string };

/** The media type (lower case) and charset of a `Content-Type` header. */
export function parseContentType(header: string | undefined): { mime: string; charset?: string } {
  const [mime = '', ...parameters] = (header ?? '').split(';');
  const charset = parameters
    .map((parameter) => parameter.trim().split('='))
    .find(([name]) => name?.trim().toLowerCase() === 'charset')?.[1]
    ?.trim()
    .replace(/^"|"$/g, '');
  return { mime: mime.trim().toLowerCase(), ...(charset ? { charset } : {}) };
}

/** Decodes bytes as text in the given charset, falling back to UTF-8 for unknown labels. */
export function decodeText(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

/** html-to-text and its parsers, loaded by the first HTML page read rather than with the package. */
const htmlToTextPackage = lazyRequire<typeof HtmlToText>('html-to-text');

/** Readable text from HTML: no markup, scripts, styles or images; links kept as `text [href]`. */
export function htmlToText(html: string): string {
  return htmlToTextPackage()
    .convert(html, {
      wordwrap: false,
      selectors: [
        { selector: 'img', format: 'skip' },
        { selector: 'script', format: 'skip' },
        { selector: 'style', format: 'skip' },
        { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
      ],
    })
    .trim();
}

const isJson = (mime: string) => mime === 'application/json' || mime.endsWith('+json');
const isHtml = (mime: string) => mime === 'text/html' || mime === 'application/xhtml+xml';
const isText = (mime: string) =>
  mime.startsWith('text/') ||
  mime.endsWith('+xml') ||
  ['application/xml', 'application/javascript', 'application/x-www-form-urlencoded'].includes(mime);

/** Turns a response body into {@link ResponseContent}, with text capped at `maxChars`. */
export function responseContent(
  response: SafeFetchResponse,
  maxBytes: number,
  maxChars: number,
): ResponseContent {
  const { mime, charset } = parseContentType(response.headers['content-type']);
  const byteMarker = response.truncated ? byteCapMarker(maxBytes, response.unreadBytes) : '';
  const capped = (text: string) => {
    const result = truncateText(text, maxChars);
    return {
      body: result.text + byteMarker,
      truncated: result.truncated || response.truncated,
    };
  };
  const sniffedHtml =
    mime === '' && /^\s*(<!doctype html|<html)/i.test(response.body.subarray(0, 512).toString());
  if (isHtml(mime) || sniffedHtml) {
    const html = decodeText(response.body, charset);
    const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html)?.[1];
    const titleText = title === undefined ? undefined : htmlToText(title).slice(0, 500);
    return {
      format: 'html',
      ...(titleText ? { title: titleText } : {}),
      ...capped(htmlToText(html)),
    };
  }
  if (isJson(mime) || mime === '') {
    const text = decodeText(response.body, charset);
    if (!response.truncated) {
      try {
        const parsed: unknown = JSON.parse(text);
        if (JSON.stringify(parsed).length <= maxChars) {
          return { format: 'json', body: parsed, truncated: false };
        }
        return {
          format: 'text',
          ...capped(text),
          note: `the JSON is longer than max_chars (${maxChars}); shown as truncated text`,
        };
      } catch {
        // Not JSON after all: fall through to text (a JSON type with a broken body, or no type).
      }
    } else if (isJson(mime)) {
      return {
        format: 'text',
        ...capped(text),
        note: `the JSON body is longer than max_bytes (${maxBytes}); shown as truncated text`,
      };
    }
    if (mime !== '' || !looksBinary(response.body)) return { format: 'text', ...capped(text) };
  }
  if (isText(mime)) return { format: 'text', ...capped(decodeText(response.body, charset)) };
  return {
    format: 'binary',
    body: null,
    truncated: response.truncated,
    note: `${mime || 'unknown'} content (${response.body.length} bytes read) is not shown`,
  };
}

function looksBinary(bytes: Buffer): boolean {
  return bytes.subarray(0, 1024).includes(0);
}
