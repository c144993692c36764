/** HTML that is already safe to insert (built by {@link html}); everything else gets escaped. */
export class SafeHtml {
  constructor(readonly text: string) {}

  /** The markup. */
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ENTITIES[character] ?? character);
}

/**
 * A tagged template that escapes every interpolated value unless it is {@link SafeHtml}, so a
 * page cannot forget to escape an agent id, an output or an error. Arrays are joined.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new SafeHtml(out);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (typeof value === 'string') return escapeHtml(value);
  if (typeof value === 'number' || typeof value === 'bigint' || value === true)
    return String(value);
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(JSON.stringify(value) ?? '');
}

/**
 * The text of a `<script>` or `<style>` element. Only the dashboard's own constant scripts and
 * stylesheet come here, never data; one holding `</script` or `<!--` would end or confuse the
 * element, so it is refused outright.
 */
export function constantElementText(source: string): SafeHtml {
  if (/<\/script|<!--/i.test(source))
    throw new Error('a dashboard script may not contain </script or <!--');
  return new SafeHtml(source);
}
