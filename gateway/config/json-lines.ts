/**
 * Line numbers for JSON config errors: `JSON.parse` keeps no positions, so the validator reports
 * a key path (`broker.keepAlive`, `clients[2].address`) and this finds the line it is on in the
 * file's text. Used only to point at a line; the text has already parsed as JSON.
 */

/**
 * The 1-based line of `path` in the JSON `text`: the line of the member's key, or of an array
 * element's first character. A path that is not in the text (a missing key) gets the line of
 * its nearest ancestor that is; 0 when there is none (the whole document).
 */
export function jsonKeyLine(text: string, path: string): number {
  const lines = jsonPathLines(text);
  for (let p = path; p !== ''; p = parentPath(p)) {
    const line = lines.get(p);
    if (line !== undefined) return line;
  }
  return 0;
}

/** `a.b[2].c` → `a.b[2]` → `a.b` → `a` → `''`. */
function parentPath(p: string): string {
  const dot = p.lastIndexOf('.');
  const br = p.lastIndexOf('[');
  const cut = Math.max(dot, br);
  return cut < 0 ? '' : p.slice(0, cut);
}

interface Frame {
  array: boolean;
  path: string;
  /** Arrays: index of the current element (-1 before the first). */
  index: number;
  /** Objects: the path of the member whose value comes next, or null while a key is expected. */
  member: string | null;
}

/** Every key path and array element of `text` with its line (first occurrence of each). */
function jsonPathLines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const stack: Frame[] = [];
  let line = 1;
  const note = (p: string): void => {
    if (p !== '' && !out.has(p)) out.set(p, line);
  };
  /** The path of a value starting here (and, in an array, the element counted). */
  const valuePath = (): string => {
    const top = stack[stack.length - 1];
    if (top === undefined) return '';
    if (top.array) {
      top.index++;
      const p = `${top.path}[${top.index}]`;
      note(p);
      return p;
    }
    return top.member ?? top.path;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\n') {
      line++;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === ',' || ch === ':') {
      if (ch === ',') {
        const top = stack[stack.length - 1];
        if (top !== undefined && !top.array) top.member = null;
      }
      continue;
    }
    if (ch === '{' || ch === '[') {
      stack.push({ array: ch === '[', path: valuePath(), index: -1, member: null });
      continue;
    }
    if (ch === '}' || ch === ']') {
      stack.pop();
      continue;
    }
    const top = stack[stack.length - 1];
    if (ch === '"') {
      let j = i + 1;
      let s = '';
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\') j++;
        s += text[j];
      }
      if (top !== undefined && !top.array && top.member === null) {
        // A member's key.
        top.member = top.path === '' ? s : `${top.path}.${s}`;
        note(top.member);
      } else valuePath();
      i = j;
      continue;
    }
    // A number, true, false or null.
    valuePath();
    while (i + 1 < text.length && !/[\s,\]}]/.test(text[i + 1]!)) i++;
  }
  return out;
}
