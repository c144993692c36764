/** What {@link el} takes as a child: a node, text, nothing, or a (nested) list of them. */
export type Child = Node | string | number | null | undefined | false | readonly Child[];

/** An attribute value; nothing (`undefined`, `null`, `false`) leaves the attribute out. */
export type AttributeValue = string | number | boolean | null | undefined;

/** Attributes of {@link el}; a function (`onclick`) is attached as a listener, never as markup. */
export type Attributes = Record<string, AttributeValue | ((event: Event) => void)>;

const SVG_NAMESPACE = 'http://www.w3.org/2000/svg';

function appendChildren(element: Element, children: readonly Child[]): void {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (typeof child === 'string' || typeof child === 'number') {
      element.append(document.createTextNode(String(child)));
    } else if (child instanceof Node) element.append(child);
    else appendChildren(element, child);
  }
}

/**
 * An element with attributes and children (nested lists flattened); strings become text nodes,
 * never markup, so nothing the API returns is parsed as HTML. `svg:rect` makes an SVG element.
 */
export function el<Tag extends keyof HTMLElementTagNameMap>(
  tag: Tag,
  attributes?: Attributes | null,
  ...children: Child[]
): HTMLElementTagNameMap[Tag];
export function el(
  tag: `svg:${string}`,
  attributes?: Attributes | null,
  ...children: Child[]
): SVGElement;
export function el(tag: string, attributes?: Attributes | null, ...children: Child[]): Element {
  const element = tag.startsWith('svg:')
    ? document.createElementNS(SVG_NAMESPACE, tag.slice(4))
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') element.addEventListener('click', value);
    else element.setAttribute(name, String(value));
  }
  appendChildren(element, children);
  return element;
}

/** Replaces an element's children (nested lists flattened, strings as text). */
export function replaceChildren(element: Element, ...children: Child[]): void {
  element.replaceChildren();
  appendChildren(element, children);
}

/** The page's element with this id; a page without it is a bug in the page, so it throws. */
export function byId<Element extends HTMLElement = HTMLElement>(id: string): Element {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element as Element;
}
