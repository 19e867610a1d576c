type Attributes = Record<string, string | undefined>;

/** Creates an element; children given as strings become text nodes: server text never becomes HTML. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  children: (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined) element.setAttribute(name, value);
  for (const child of children) element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return element;
}

/** Sets text only when it changed: fewer style recalculations on a 1 Hz board. */
export function setText(element: Element, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}
