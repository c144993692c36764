import { el } from './dom.js';

/** An element whose item is gone: marked so, its controls disabled but the one that dismisses it. */
function markGone(element: HTMLElement): void {
  element.dataset.gone = 'true';
  element.classList.add('gone');
  for (const control of element.querySelectorAll<
    HTMLButtonElement | HTMLInputElement | HTMLTextAreaElement
  >('button, input, textarea')) {
    if (control.dataset.action !== 'dismiss') control.disabled = true;
  }
}

/** How a {@link KeyedList} makes and names its elements. */
export interface KeyedListOptions<Item> {
  /** What identifies an item across refreshes (an approval id, a run id). */
  key: (item: Item) => string;
  render: (item: Item) => HTMLElement;
  /** What the list says when nothing is in it. */
  empty: string;
}

/**
 * A list whose elements are kept per key across refreshes: an item that is still there keeps its
 * element, so a note being typed, an open panel or the focus survive a live update; only items
 * that changed are drawn again, and those gone are removed — except one marked
 * {@link KeyedList.pin}ned (it shows an error the person should read), which stays, marked gone.
 */
export class KeyedList<Item> {
  readonly #list: HTMLElement;
  readonly #options: KeyedListOptions<Item>;
  readonly #entries = new Map<string, { element: HTMLElement; signature: string }>();

  constructor(list: HTMLElement, options: KeyedListOptions<Item>) {
    this.#list = list;
    this.#options = options;
    list.dataset.empty = options.empty;
  }

  /** Takes away a pinned element a person has read (the list then says it is empty, if it is). */
  static dismiss(element: HTMLElement): void {
    const list = element.parentElement;
    KeyedList.unpin(element);
    element.remove();
    if (list && list.children.length === 0)
      list.replaceChildren(el('li', { class: 'empty' }, list.dataset.empty ?? ''));
  }

  /** Keeps the element of the item through refreshes even once the item is gone. */
  static pin(element: HTMLElement): void {
    element.dataset.pinned = 'true';
  }

  /** Lets a pinned element go with the next refresh that no longer lists its item. */
  static unpin(element: HTMLElement): void {
    delete element.dataset.pinned;
  }

  /** Shows these items, in this order (pinned elements whose item is gone first). */
  update(items: readonly Item[]): void {
    const listed: HTMLElement[] = [];
    const keys = new Set<string>();
    for (const item of items) {
      const key = this.#options.key(item);
      if (keys.has(key)) continue;
      keys.add(key);
      const signature = JSON.stringify(item);
      const known = this.#entries.get(key);
      if (known && known.signature === signature && known.element.dataset.gone !== 'true') {
        listed.push(known.element);
        continue;
      }
      const element = this.#options.render(item);
      element.dataset.key = key;
      this.#entries.set(key, { element, signature });
      listed.push(element);
    }
    const gone: HTMLElement[] = [];
    for (const [key, { element }] of this.#entries) {
      if (keys.has(key)) continue;
      if (element.dataset.pinned === 'true') {
        markGone(element);
        gone.push(element);
      } else this.#entries.delete(key);
    }
    this.#place([...gone, ...listed]);
  }

  /** Puts the elements in order moving as few as it can (a moved element loses the focus). */
  #place(order: HTMLElement[]): void {
    if (order.length === 0) {
      this.#list.replaceChildren(el('li', { class: 'empty' }, this.#options.empty));
      return;
    }
    const wanted = new Set<Element>(order);
    for (const child of [...this.#list.children]) if (!wanted.has(child)) child.remove();
    order.forEach((element, index) => {
      const present = this.#list.children[index];
      if (present !== element) this.#list.insertBefore(element, present ?? null);
    });
  }
}
