/**
 * Rejects JavaScript that Espruino cannot run (DESIGN.md §4).
 *
 * esbuild's `--target=es2015` leaves syntax that Espruino's interpreter does not
 * support in place (default parameters, destructuring, rest/spread, ...) and
 * lowers some newer features to helpers that need missing built-ins (`#private`
 * becomes a `WeakMap`, `async` becomes a generator). This check parses a bundle
 * with acorn, walks every node and reports what would fail on the device.
 *
 * Built-in references are judged by identifier *references* only: property
 * names (`ring.size`, `obj.Map`), object keys (`{ Set: 1 }`), class member
 * names and labels never count, and a name declared in an enclosing function
 * (or the program) shadows the global. `typeof X` is allowed because it is
 * how feature detection works and cannot throw.
 *
 * `require`: every reference is a violation, by default. The bundles must be
 * self-contained — esbuild resolves every import of `src/`, so a `require`
 * left in the output means an unresolved external or esbuild's `__require`
 * shim (which needs `Proxy`). A `node:` specifier can never work on a device
 * and is reported as `node-import` whatever the options say. Espruino's own
 * modules (`net`, `dgram`, `Wifi`, ...) should reach the SDK through the
 * options object (DESIGN.md §3, "dependencies injected"); if an Espruino
 * adapter ever has to `require` one, allow that literal name explicitly with
 * `{ allowRequire: ['net'] }` / `--allow-require=net`.
 *
 * CLI: `tsx scripts/check-espruino.ts [--allow-require=a,b] [files...]`
 * (default: `dist/espruino/*.js`); prints one line per violation and exits 1
 * if there are any.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, resolve, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as acorn from 'acorn';
import { fullAncestor } from 'acorn-walk';

export interface Violation {
  /** Rule id, e.g. `destructuring`, `missing-builtin`, `regex-flag`. */
  rule: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  /** The offending source, whitespace collapsed, at most 80 characters. */
  snippet: string;
}

export interface EspruinoCheckOptions {
  /** Module names that may be loaded with a literal `require('name')` call. */
  allowRequire?: readonly string[];
}

/**
 * Every rule the checker reports, with the reason, for documentation and
 * CLI output.
 */
export const ESPRUINO_RULES: Readonly<Record<string, string>> = {
  'parse-error': 'the code does not parse as an ES script',
  'default-parameter': 'default parameter values are not supported',
  rest: 'rest elements (...args) are not supported',
  spread: 'spread (...x) is not supported',
  destructuring: 'destructuring patterns are not supported',
  'optional-chaining': 'optional chaining (?.) is not supported',
  exponent: 'the ** / **= operators are not supported',
  'private-name': '#private names are not supported (esbuild lowers them to WeakMap)',
  'static-block': 'class static blocks are not supported',
  generator: 'generator functions are not supported',
  async: 'async functions are not supported',
  await: 'await / for await are not supported',
  yield: 'yield is not supported',
  label: 'labelled statements are not supported',
  bigint: 'BigInt literals are not supported',
  'regex-flag': 'regular expression flags y, u, s, d, v are not supported',
  'regex-named-group': 'named capture groups are not supported',
  'missing-builtin': 'the built-in does not exist on Espruino',
  'node-global': 'a Node.js-only global',
  timer: 'timers belong to the platform adapter; the SDK advances in poll(now)',
  'wall-clock': 'Date: the SDK reads time only through the injected Clock',
  require: 'the bundle must be self-contained (see the header of check-espruino.ts)',
  'node-import': 'a node: module cannot be loaded on a device',
};

/** Identifier references and the rule that forbids them. */
const FORBIDDEN_GLOBALS: Readonly<Record<string, string>> = {
  Map: 'missing-builtin',
  Set: 'missing-builtin',
  WeakMap: 'missing-builtin',
  WeakSet: 'missing-builtin',
  WeakRef: 'missing-builtin',
  FinalizationRegistry: 'missing-builtin',
  Symbol: 'missing-builtin',
  Proxy: 'missing-builtin',
  Reflect: 'missing-builtin',
  TextEncoder: 'missing-builtin',
  TextDecoder: 'missing-builtin',
  BigInt: 'missing-builtin',
  BigInt64Array: 'missing-builtin',
  BigUint64Array: 'missing-builtin',
  Buffer: 'node-global',
  process: 'node-global',
  global: 'node-global',
  __dirname: 'node-global',
  __filename: 'node-global',
  setTimeout: 'timer',
  setInterval: 'timer',
  setImmediate: 'timer',
  clearTimeout: 'timer',
  clearInterval: 'timer',
  clearImmediate: 'timer',
  Date: 'wall-clock',
  require: 'require',
};

/** `Object.<member>` uses that are missing on Espruino. */
const FORBIDDEN_MEMBERS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Object: { freeze: 'missing-builtin' },
};

/** Objects through which a global can be reached as a property. */
const GLOBAL_OBJECTS = new Set(['globalThis', 'global', 'self', 'window']);

const BAD_REGEX_FLAGS = /[yusdv]/;

// acorn's node types are a large union; the walker reads fields generically.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = { type: string; start: number; end: number; loc?: acorn.SourceLocation | null; [k: string]: any };

const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);
const PATTERN_TYPES = new Set(['ObjectPattern', 'ArrayPattern', 'AssignmentPattern', 'RestElement', 'Property']);

/**
 * Checks JavaScript source (a bundle, parsed as a classic script) for
 * constructs and built-ins Espruino lacks. Returns the violations in source
 * order; an empty array means the code is clean.
 */
export function checkEspruinoSource(code: string, options: EspruinoCheckOptions = {}): Violation[] {
  let ast: acorn.Program;
  try {
    ast = acorn.parse(code, { ecmaVersion: 'latest', sourceType: 'script', locations: true, allowHashBang: true });
  } catch (err) {
    const e = err as SyntaxError & { loc?: { line: number; column: number } };
    return [{ rule: 'parse-error', line: e.loc?.line ?? 0, column: (e.loc?.column ?? -1) + 1, snippet: e.message }];
  }
  const allowRequire = new Set(options.allowRequire ?? []);
  const out: Violation[] = [];
  const seen = new Set<string>();

  const report = (rule: string, node: Loose, text?: string): void => {
    const key = rule + ':' + node.start;
    if (seen.has(key)) return;
    seen.add(key);
    const loc = node.loc!.start;
    out.push({ rule, line: loc.line, column: loc.column + 1, snippet: snippetOf(text ?? code.slice(node.start, node.end)) });
  };

  // Pass 1: which names each function (or the program) declares, so that a
  // local `Map` or parameter `process` does not count as the global.
  const declared = new Map<Loose, Set<string>>();
  const declare = (scope: Loose, name: string): void => {
    let s = declared.get(scope);
    if (!s) declared.set(scope, (s = new Set()));
    s.add(name);
  };
  fullAncestor(ast, (node, _st, ancestors, type) => {
    if (type !== 'VariablePattern' || node.type !== 'Identifier') return;
    const scope = declarationScope(ancestors as Loose[]);
    if (scope) declare(scope, node.name);
  });
  const isShadowed = (name: string, ancestors: Loose[]): boolean => {
    for (let i = ancestors.length - 1; i >= 0; i--) if (declared.get(ancestors[i])?.has(name)) return true;
    return false;
  };

  // Pass 2: the rules.
  fullAncestor(ast, (n, _st, anc, type) => {
    const node = n as Loose;
    const ancestors = anc as Loose[];
    const parent = ancestors[ancestors.length - 2] as Loose | undefined;
    switch (node.type) {
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        if (node.generator) report('generator', node);
        if (node.async) report('async', node);
        for (const p of node.params as Loose[]) if (p.type === 'AssignmentPattern') report('default-parameter', p);
        break;
      case 'RestElement':
        report('rest', node);
        break;
      case 'SpreadElement':
        report('spread', node);
        break;
      case 'ObjectPattern':
      case 'ArrayPattern':
        report('destructuring', node);
        break;
      case 'ChainExpression':
        report('optional-chaining', node);
        break;
      case 'BinaryExpression':
        if (node.operator === '**') report('exponent', node);
        break;
      case 'AssignmentExpression':
        if (node.operator === '**=') report('exponent', node);
        break;
      case 'PrivateIdentifier': // `#x in obj`
        report('private-name', node);
        break;
      case 'MethodDefinition':
      case 'PropertyDefinition':
        if (node.key.type === 'PrivateIdentifier') report('private-name', node.key);
        break;
      case 'StaticBlock':
        report('static-block', node);
        break;
      case 'AwaitExpression':
        report('await', node);
        break;
      case 'ForOfStatement':
        if (node.await) report('await', node);
        break;
      case 'YieldExpression':
        report('yield', node);
        break;
      case 'LabeledStatement':
        report('label', node, node.label.name + ':');
        break;
      case 'Literal':
        if (typeof node.bigint === 'string') report('bigint', node);
        if (node.regex) checkRegex(node.regex.pattern, node.regex.flags, node, report);
        break;
      case 'NewExpression':
      case 'CallExpression':
        checkCall(node, ancestors, isShadowed, allowRequire, report);
        break;
      case 'MemberExpression':
        checkMember(node, ancestors, isShadowed, report);
        break;
      case 'Identifier':
        if (type === 'Identifier') checkIdentifier(node, parent, ancestors, isShadowed, report);
        break;
    }
  });

  out.sort((a, b) => a.line - b.line || a.column - b.column);
  return out;
}

type Report = (rule: string, node: Loose, text?: string) => void;
type Shadowed = (name: string, ancestors: Loose[]) => boolean;

/**
 * The scope node (a function, a catch clause or the program) that a declared
 * identifier belongs to, or null when the "pattern" is an assignment target.
 * Block scoping of let/const is approximated by the enclosing function.
 */
function declarationScope(ancestors: Loose[]): Loose | null {
  let i = ancestors.length - 1;
  let child = ancestors[i];
  // Climb out of destructuring patterns to the construct that owns them.
  while (i > 0 && PATTERN_TYPES.has(ancestors[i - 1].type)) child = ancestors[--i];
  const owner = ancestors[i - 1];
  if (!owner) return null;
  if (owner.type === 'VariableDeclarator' && owner.id === child) return enclosingScope(ancestors, i - 1);
  if (FUNCTION_TYPES.has(owner.type)) {
    if (owner.params.includes(child)) return owner;
    if (owner.id === child) return owner.type === 'FunctionDeclaration' ? enclosingScope(ancestors, i - 1) : owner;
  }
  if (owner.type === 'ClassDeclaration' && owner.id === child) return enclosingScope(ancestors, i - 1);
  if (owner.type === 'ClassExpression' && owner.id === child) return owner;
  if (owner.type === 'CatchClause' && owner.param === child) return owner;
  return null;
}

/** The nearest function or program strictly above `ancestors[below]`. */
function enclosingScope(ancestors: Loose[], below: number): Loose | null {
  for (let k = below - 1; k >= 0; k--) {
    const t = ancestors[k].type;
    if (t === 'Program' || FUNCTION_TYPES.has(t)) return ancestors[k];
  }
  return null;
}

function checkIdentifier(node: Loose, parent: Loose | undefined, ancestors: Loose[], isShadowed: Shadowed, report: Report): void {
  const rule = FORBIDDEN_GLOBALS[node.name];
  if (rule === undefined || isShadowed(node.name, ancestors)) return;
  if (parent && parent.type === 'UnaryExpression' && parent.operator === 'typeof') return;
  // Literal `require('x')` calls are judged by checkCall (which knows the specifier).
  if (node.name === 'require' && parent && parent.type === 'CallExpression' && parent.callee === node) {
    const arg = parent.arguments[0] as Loose | undefined;
    if (parent.arguments.length === 1 && arg && arg.type === 'Literal' && typeof arg.value === 'string') return;
  }
  report(rule, node);
}

function checkCall(node: Loose, ancestors: Loose[], isShadowed: Shadowed, allowRequire: Set<string>, report: Report): void {
  const callee = node.callee as Loose;
  if (callee.type !== 'Identifier') return;
  if (callee.name === 'require' && node.type === 'CallExpression' && !isShadowed('require', ancestors)) {
    const arg = node.arguments[0] as Loose | undefined;
    if (node.arguments.length === 1 && arg && arg.type === 'Literal' && typeof arg.value === 'string') {
      if (arg.value.startsWith('node:')) report('node-import', node);
      else if (!allowRequire.has(arg.value)) report('require', node);
    }
  }
  // new RegExp('...', 'u') / RegExp('...', 'y')
  if (callee.name === 'RegExp' && !isShadowed('RegExp', ancestors)) {
    const flags = node.arguments[1] as Loose | undefined;
    const pattern = node.arguments[0] as Loose | undefined;
    const f = flags && flags.type === 'Literal' && typeof flags.value === 'string' ? flags.value : '';
    const p = pattern && pattern.type === 'Literal' && typeof pattern.value === 'string' ? pattern.value : '';
    checkRegex(p, f, node, report);
  }
}

function checkMember(node: Loose, ancestors: Loose[], isShadowed: Shadowed, report: Report): void {
  const obj = node.object as Loose;
  const prop = node.property as Loose;
  if (!node.computed && prop.type === 'PrivateIdentifier') {
    report('private-name', prop);
    return;
  }
  if (obj.type !== 'Identifier' || isShadowed(obj.name, ancestors)) return;
  const name = !node.computed && prop.type === 'Identifier' ? prop.name : prop.type === 'Literal' && typeof prop.value === 'string' ? prop.value : null;
  if (name === null) return;
  const members = FORBIDDEN_MEMBERS[obj.name];
  if (members && Object.prototype.hasOwnProperty.call(members, name)) report(members[name], node);
  // globalThis.Map, global.Buffer, ...
  if (GLOBAL_OBJECTS.has(obj.name) && Object.prototype.hasOwnProperty.call(FORBIDDEN_GLOBALS, name)) {
    report(FORBIDDEN_GLOBALS[name], node);
  }
}

function checkRegex(pattern: string, flags: string, node: Loose, report: Report): void {
  if (BAD_REGEX_FLAGS.test(flags)) report('regex-flag', node);
  if (hasNamedGroup(pattern)) report('regex-named-group', node);
}

/** True when a regex source has `(?<name>` or `\k<name>` outside a class. */
export function hasNamedGroup(pattern: string): boolean {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      if (!inClass && pattern[i + 1] === 'k' && pattern[i + 2] === '<') return true;
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
    } else if (c === '(' && pattern[i + 1] === '?' && pattern[i + 2] === '<') {
      const d = pattern[i + 3];
      if (d !== '=' && d !== '!') return true;
    }
  }
  return false;
}

function snippetOf(text: string): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}

/** Checks files; returns the violations per file (only files with some). */
export function checkEspruinoFiles(files: readonly string[], options: EspruinoCheckOptions = {}): Map<string, Violation[]> {
  const result = new Map<string, Violation[]>();
  for (const f of files) {
    const v = checkEspruinoSource(readFileSync(f, 'utf8'), options);
    if (v.length > 0) result.set(f, v);
  }
  return result;
}

function main(argv: string[]): number {
  const options: EspruinoCheckOptions = {};
  const files: string[] = [];
  for (const a of argv) {
    if (a.startsWith('--allow-require=')) options.allowRequire = a.slice('--allow-require='.length).split(',').filter(Boolean);
    else if (a === '-h' || a === '--help') {
      console.log('usage: tsx scripts/check-espruino.ts [--allow-require=net,dgram] [files...]  (default dist/espruino/*.js)');
      return 0;
    } else files.push(a);
  }
  if (files.length === 0) {
    const dir = 'dist/espruino';
    if (existsSync(dir)) for (const f of readdirSync(dir).sort()) if (f.endsWith('.js')) files.push(join(dir, f));
  }
  if (files.length === 0) {
    console.error('check-espruino: no files to check (run `npm run build` first)');
    return 1;
  }
  let total = 0;
  const rulesSeen = new Set<string>();
  for (const f of files) {
    if (!existsSync(f)) {
      console.error(`check-espruino: ${f}: no such file`);
      total++;
      continue;
    }
    const v = checkEspruinoSource(readFileSync(f, 'utf8'), options);
    for (const x of v) {
      console.log(`${relative(process.cwd(), f)}:${x.line}:${x.column}  ${x.rule}  ${x.snippet}`);
      rulesSeen.add(x.rule);
    }
    if (v.length === 0) console.log(`ok  ${relative(process.cwd(), f)}`);
    total += v.length;
  }
  if (total > 0) {
    for (const r of rulesSeen) console.error(`  ${r}: ${ESPRUINO_RULES[r] ?? ''}`);
    console.error(`check-espruino: ${total} problem(s)`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
