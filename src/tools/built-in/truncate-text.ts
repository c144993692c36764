/** `text` cut to at most `maxChars` characters plus a marker saying how many were cut. */
export function truncateText(text: string, maxChars: number): { text: string; truncated: boolean } {
  if (text.length <= maxChars) return { text, truncated: false };
  const cut = text.length - maxChars;
  return {
    text: `${text.slice(0, maxChars)}…[truncated: ${cut} more characters]`,
    truncated: true,
  };
}

/** The marker appended when a body was cut at its byte cap while reading. */
export function byteCapMarker(maxBytes: number, unreadBytes: number | undefined): string {
  const rest =
    unreadBytes === undefined ? 'the rest was not read' : `${unreadBytes} more bytes were not read`;
  return `…[truncated: body cut at ${maxBytes} bytes; ${rest}]`;
}
