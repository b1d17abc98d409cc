// Starts an xsnap worker: the real Moddable XS engine, as @agoric/xsnap builds it from Moddable's
// XS sources. Used by scripts/xs-slots.mjs and test/support/xs-runner.mjs. The importing
// process must `import '@endo/init'` before this module (xsnap needs the locked-down realm).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import tmp from 'tmp';
import { xsnap } from '@agoric/xsnap';

/**
 * A new XS worker named `name`, without metering, its output on ours; `handleCommand(bytes)`
 * answers the worker's `issueCommand`.
 */
export function startXsnap(name, handleCommand) {
  return xsnap({
    os: os.type(),
    spawn,
    fs: { ...fs, ...fs.promises, tmpName: tmp.tmpName },
    name,
    meteringLimit: 0,
    stdout: 'inherit',
    stderr: 'inherit',
    handleCommand,
  });
}
