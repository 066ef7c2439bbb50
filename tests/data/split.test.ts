import { beforeAll, describe, expect, it } from 'vitest';
import { checkContamination, holdOutFile, splitByProblem } from '../../src/data/split';
import type { Trajectory } from '../../src/data/trajectory';
import { importDataFile } from './helpers';

let test: Trajectory[] = [];
let socratic: Trajectory[] = [];
let subq: Trajectory[] = [];

beforeAll(async () => {
  test = (await importDataFile('gsm8k/test.jsonl')).trajectories;
  socratic = (await importDataFile('gsm8k/test_socratic.jsonl')).trajectories;
  subq = (await importDataFile('gsm8k-ai-subq/qg_test_data_raw.jsonl')).trajectories;
});

describe('splitByProblem', () => {
  it('keeps every problem on one side, even across files', () => {
    const rows = [...socratic, ...subq, ...test];
    const { train, eval: evalRows } = splitByProblem(rows, { evalFraction: 0.2, seed: 7 });
    expect(train.length + evalRows.length).toBe(rows.length);
    expect(checkContamination(train, evalRows)).toEqual([]);
    const evalProblems = new Set(evalRows.map((r) => r.problemId));
    expect(evalProblems.size).toBe(Math.round(0.2 * 1319));
    expect(evalRows.length).toBe(3 * evalProblems.size); // each problem's three rows go together
  });

  it('is deterministic for a seed, independent of row order, and differs between seeds', () => {
    const a = splitByProblem(socratic, { evalFraction: 0.1, seed: 1 });
    const b = splitByProblem([...socratic].reverse(), { evalFraction: 0.1, seed: 1 });
    const ids = (rows: Trajectory[]) => rows.map((r) => r.id).sort();
    expect(ids(b.eval)).toEqual(ids(a.eval));
    const c = splitByProblem(socratic, { evalFraction: 0.1, seed: 2 });
    expect(ids(c.eval)).not.toEqual(ids(a.eval));
    expect(a.train.map((r) => r.id)).toEqual(socratic.filter((r) => !a.eval.includes(r)).map((r) => r.id)); // row order kept
  });

  it('handles the edges', () => {
    expect(splitByProblem(test, { evalFraction: 0, seed: 1 }).eval).toEqual([]);
    expect(splitByProblem(test, { evalFraction: 1, seed: 1 }).train).toEqual([]);
    const two = test.slice(0, 2);
    expect(splitByProblem(two, { evalFraction: 0.01, seed: 1 }).eval).toHaveLength(1);
    expect(splitByProblem(two, { evalFraction: 0.99, seed: 1 }).train).toHaveLength(1);
    expect(() => splitByProblem(test, { evalFraction: 1.5, seed: 1 })).toThrow(RangeError);
  });
});

describe('contamination', () => {
  it('socratic (train) + test.jsonl (eval) share all 1,319 problems', () => {
    expect(checkContamination(socratic, test)).toHaveLength(1319);
    expect(checkContamination(subq, test)).toHaveLength(1319);
  });

  it('holdOutFile takes a whole file as eval and removes its problems from train', () => {
    const mixed = [...socratic.slice(0, 100), ...subq.slice(500, 600)];
    const heldOut = test.slice(0, 50);
    const { train, eval: evalRows, removedFromTrain } = holdOutFile(mixed, heldOut);
    expect(evalRows).toEqual(heldOut);
    expect(removedFromTrain.map((r) => r.id)).toEqual(socratic.slice(0, 50).map((r) => r.id));
    expect(train).toHaveLength(150);
    expect(checkContamination(train, evalRows)).toEqual([]);
  });
});
