#!/usr/bin/env node
// fieldmq-gateway launcher: runs the TypeScript CLI (gateway/cli.ts) through tsx's scoped
// loader, in this process (signals reach the gateway directly). `npx fieldmq-gateway --help`.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 6)) {
  process.stderr.write(`fieldmq-gateway: needs Node.js 20.6 or later (this is ${process.version})\n`);
  process.exit(1);
}
const { tsImport } = await import('tsx/esm/api');
const cli = await tsImport('../gateway/cli.ts', import.meta.url);
await cli.main(process.argv.slice(2));
