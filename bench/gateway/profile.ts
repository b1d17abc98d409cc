/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof` or the inspector): self time and
 * total (inclusive) time per function, as a share of the samples, for the report on where
 * the gateway's time goes.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileLine {
  name: string;
  /** Share of all samples, %. */
  self: number;
  total: number;
}

function label(f: CallFrame): string {
  const file = f.url.replace(/^file:\/\//, '').replace(/^.*\/work\/main\//, '');
  const fn = f.functionName || '(anonymous)';
  return file ? `${fn} ${file}:${f.lineNumber + 1}` : fn;
}

/** Self and total time by function, largest self first (`top` lines). */
export function summarizeProfile(file: string, top = 25): { lines: ProfileLine[]; byTotal: ProfileLine[]; idle: number; samples: number } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const selfT = new Map<string, number>();
  const totalT = new Map<string, number>();
  let all = 0;
  let idle = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    const node = byId.get(p.samples[i]!);
    if (!node) continue;
    all += dt;
    const name = label(node.callFrame);
    if (node.callFrame.functionName === '(idle)') idle += dt;
    selfT.set(name, (selfT.get(name) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const l = label(byId.get(id)!.callFrame);
      if (seen.has(l)) continue;
      seen.add(l);
      totalT.set(l, (totalT.get(l) ?? 0) + dt);
    }
  }
  const pct = (x: number) => (all > 0 ? (x * 100) / all : 0);
  const names = [...new Set([...selfT.keys(), ...totalT.keys()])];
  const lines = names.map((name) => ({ name, self: pct(selfT.get(name) ?? 0), total: pct(totalT.get(name) ?? 0) }));
  return {
    lines: lines
      .filter((l) => l.self > 0)
      .sort((a, b) => b.self - a.self)
      .slice(0, top),
    byTotal: lines
      .filter((l) => !l.name.startsWith('(root)'))
      .sort((a, b) => b.total - a.total)
      .slice(0, top),
    idle: pct(idle),
    samples: p.samples.length,
  };
}
