/**
 * Keeps `src/` portable (DESIGN.md §2): the device SDK must run unchanged on
 * Espruino, Moddable XS and Node, so outside `src/platform/node/` it may not
 * import `node:` modules (or bare Node built-ins like `fs`), packages, or
 * anything outside `src/`, nor use `Buffer`, `process`, timers or `Date`.
 *
 * The check parses each file with the TypeScript compiler API, so it sees real
 * imports (static, `export ... from`, `import x = require()`, `import()` calls
 * and `import('...')` types) and real identifier references: comments, strings,
 * property names (`x.process`), object keys and locally declared names (a
 * parameter called `process`) do not count. Type references do count: an API
 * typed with `Buffer` or `Date` is not portable either.
 *
 * A portable file importing `src/platform/node/**` is reported too
 * (`node-platform-import`): that directory is exempt from the check, so such
 * an import would smuggle Node APIs into the portable tree.
 *
 * CLI: `tsx scripts/check-portable.ts [srcDir]` (default `src`); exits 1 on
 * any violation.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

export interface PortableViolation {
  /** Path of the file, relative to the checked `src` directory's parent when from the tree walk. */
  file: string;
  /** `node-import`, `outside-src`, `node-platform-import`, `dynamic-import`, `node-global`, `timer`, `wall-clock`. */
  rule: string;
  line: number;
  column: number;
  snippet: string;
}

export interface PortableOptions {
  /** Directories under the source root that are exempt (default `['platform/node']`). */
  exclude?: readonly string[];
}

/** Global names the portable tree must not reference, with their rule. */
export const FORBIDDEN_IDENTIFIERS: Readonly<Record<string, string>> = {
  Buffer: 'node-global',
  process: 'node-global',
  require: 'node-global',
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
};

const GLOBAL_OBJECTS = new Set(['globalThis', 'global', 'self', 'window']);
const NODE_BUILTINS = new Set(builtinModules.map((m) => m.replace(/^node:/, '')));
const SOURCE_EXT = /\.(?:[cm]?ts|tsx|[cm]?js|jsx)$/;
const DEFAULT_EXCLUDE = ['platform/node'];

/**
 * Checks one source file. `srcRoot` is the portable tree's root: relative
 * imports that resolve outside it are violations.
 */
export function checkPortableSource(fileName: string, code: string, srcRoot: string, options: PortableOptions = {}): PortableViolation[] {
  const root = resolve(srcRoot);
  const file = resolve(fileName);
  const excluded = (options.exclude ?? DEFAULT_EXCLUDE).map((d) => resolve(root, d));
  const sf = ts.createSourceFile(file, code, ts.ScriptTarget.Latest, true, scriptKind(file));
  const out: PortableViolation[] = [];
  const report = (rule: string, node: ts.Node, text?: string): void => {
    const start = node.getStart(sf);
    const { line, character } = sf.getLineAndCharacterOfPosition(start);
    const snippet = (text ?? node.getText(sf)).replace(/\s+/g, ' ').trim();
    out.push({ file: fileName, rule, line: line + 1, column: character + 1, snippet: snippet.length > 80 ? snippet.slice(0, 77) + '...' : snippet });
  };

  const checkSpecifier = (spec: string, node: ts.Node): void => {
    if (spec.startsWith('node:') || NODE_BUILTINS.has(spec) || NODE_BUILTINS.has(spec.split('/')[0])) {
      report('node-import', node);
      return;
    }
    if (!spec.startsWith('.') && !isAbsolute(spec)) {
      report('outside-src', node); // a package: src/ depends on nothing
      return;
    }
    const target = resolve(file, '..', spec);
    if (!isInside(target, root)) report('outside-src', node);
    else if (excluded.some((d) => isInside(target, d))) report('node-platform-import', node);
  };

  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      checkSpecifier(node.moduleSpecifier.text, node);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const e = node.moduleReference.expression;
      if (ts.isStringLiteral(e)) checkSpecifier(e.text, node);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteralLike(arg)) checkSpecifier(arg.text, node);
      else report('dynamic-import', node);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      checkSpecifier(node.argument.literal.text, node);
    } else if (ts.isIdentifier(node)) {
      const rule = FORBIDDEN_IDENTIFIERS[node.text];
      if (rule !== undefined && isReference(node) && !isDeclaredLocally(node)) report(rule, node);
    } else if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && GLOBAL_OBJECTS.has(node.expression.text)) {
      const rule = FORBIDDEN_IDENTIFIERS[node.name.text];
      if (rule !== undefined && !isDeclaredLocally(node.expression)) report(rule, node);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Walks `srcRoot` (skipping the excluded directories) and checks every source file. */
export function checkPortableTree(srcRoot: string, options: PortableOptions = {}): PortableViolation[] {
  const root = resolve(srcRoot);
  const excluded = (options.exclude ?? DEFAULT_EXCLUDE).map((d) => resolve(root, d));
  const out: PortableViolation[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (excluded.some((d) => p === d || isInside(p, d))) continue;
      const st = statSync(p);
      if (st.isDirectory()) {
        if (name !== 'node_modules') walk(p);
      } else if (SOURCE_EXT.test(name)) {
        const rel = relative(resolve(root, '..'), p);
        out.push(...checkPortableSource(p, readFileSync(p, 'utf8'), root, options).map((v) => ({ ...v, file: rel })));
      }
    }
  };
  walk(root);
  return out;
}

function isInside(path: string, dir: string): boolean {
  const r = relative(dir, path);
  return r === '' || (!r.startsWith('..' + sep) && r !== '..' && !isAbsolute(r));
}

function scriptKind(file: string): ts.ScriptKind {
  if (/\.[cm]?js$/.test(file)) return ts.ScriptKind.JS;
  if (file.endsWith('.jsx')) return ts.ScriptKind.JSX;
  if (file.endsWith('.tsx')) return ts.ScriptKind.TSX;
  return ts.ScriptKind.TS;
}

/** False for identifiers that are names of members, keys, labels or declarations. */
function isReference(id: ts.Identifier): boolean {
  const p = id.parent;
  if (!p) return false;
  if (ts.isPropertyAccessExpression(p) && p.name === id) return false;
  if (ts.isQualifiedName(p) && p.right === id) return false;
  if (ts.isLabeledStatement(p) || ts.isBreakOrContinueStatement(p)) return false;
  if (ts.isMetaProperty(p)) return false;
  if (ts.isTypeOfExpression(p)) return false; // feature detection cannot throw
  if (
    (ts.isPropertyAssignment(p) ||
      ts.isPropertyDeclaration(p) ||
      ts.isPropertySignature(p) ||
      ts.isMethodDeclaration(p) ||
      ts.isMethodSignature(p) ||
      ts.isGetAccessorDeclaration(p) ||
      ts.isSetAccessorDeclaration(p) ||
      ts.isEnumMember(p)) &&
    p.name === id
  ) {
    return false;
  }
  if ((ts.isImportSpecifier(p) || ts.isExportSpecifier(p)) && p.propertyName === id) return false;
  if (ts.isBindingElement(p) && p.propertyName === id) return false;
  if (isDeclarationName(id)) return false;
  return true;
}

function isDeclarationName(id: ts.Identifier): boolean {
  const p = id.parent;
  return (
    ((ts.isVariableDeclaration(p) ||
      ts.isParameter(p) ||
      ts.isBindingElement(p) ||
      ts.isFunctionDeclaration(p) ||
      ts.isFunctionExpression(p) ||
      ts.isClassDeclaration(p) ||
      ts.isClassExpression(p) ||
      ts.isInterfaceDeclaration(p) ||
      ts.isTypeAliasDeclaration(p) ||
      ts.isEnumDeclaration(p) ||
      ts.isModuleDeclaration(p) ||
      ts.isTypeParameterDeclaration(p) ||
      ts.isImportClause(p) ||
      ts.isImportSpecifier(p) ||
      ts.isNamespaceImport(p) ||
      ts.isImportEqualsDeclaration(p)) &&
      p.name === id) ||
    (ts.isExportSpecifier(p) && p.name === id && p.propertyName !== undefined)
  );
}

/**
 * True when `id`'s name is declared in an enclosing function (parameter or
 * any declaration in its body) or at the top of its file, so it is a local,
 * not the global. Block scoping is approximated by the enclosing function.
 */
function isDeclaredLocally(id: ts.Identifier): boolean {
  const name = id.text;
  for (let n: ts.Node | undefined = id.parent; n; n = n.parent) {
    if (ts.isFunctionLike(n) || ts.isSourceFile(n) || ts.isClassStaticBlockDeclaration(n)) {
      if (declares(n, name)) return true;
    }
  }
  return false;
}

const declCache = new WeakMap<ts.Node, Set<string>>();

function declares(scope: ts.Node, name: string): boolean {
  let names = declCache.get(scope);
  if (!names) {
    const found = new Set<string>();
    const addBinding = (b: ts.BindingName): void => {
      if (ts.isIdentifier(b)) found.add(b.text);
      else for (const el of b.elements) if (!ts.isOmittedExpression(el)) addBinding(el.name);
    };
    if (ts.isFunctionLike(scope)) {
      for (const p of scope.parameters) addBinding(p.name);
      if ((ts.isFunctionExpression(scope) || ts.isClassExpression(scope)) && scope.name) found.add(scope.name.text);
    }
    const visit = (n: ts.Node): void => {
      if (n !== scope && (ts.isFunctionLike(n) || ts.isClassStaticBlockDeclaration(n))) {
        // A nested function's name belongs to this scope; its insides do not.
        if (ts.isFunctionDeclaration(n) && n.name) found.add(n.name.text);
        return;
      }
      if (ts.isVariableDeclaration(n)) addBinding(n.name);
      else if ((ts.isClassDeclaration(n) || ts.isEnumDeclaration(n)) && n.name) found.add(n.name.text);
      else if (ts.isImportClause(n) && n.name) found.add(n.name.text);
      else if (ts.isImportSpecifier(n) || ts.isNamespaceImport(n) || ts.isImportEqualsDeclaration(n)) found.add(n.name.text);
      else if (ts.isCatchClause(n) && n.variableDeclaration) addBinding(n.variableDeclaration.name);
      ts.forEachChild(n, visit);
    };
    ts.forEachChild(scope, visit);
    names = found;
    declCache.set(scope, names);
  }
  return names.has(name);
}

function main(argv: string[]): number {
  const src = argv[0] ?? 'src';
  const violations = checkPortableTree(src);
  for (const v of violations) console.log(`${v.file}:${v.line}:${v.column}  ${v.rule}  ${v.snippet}`);
  if (violations.length > 0) {
    console.error(`check-portable: ${violations.length} problem(s) in ${src}/ (excluding ${DEFAULT_EXCLUDE.join(', ')})`);
    return 1;
  }
  console.log(`check-portable: ${src}/ is portable`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
