// One engine per browser test file; the adapter's name goes into test titles so output names it.
import { Engine } from '../../src/gpu/engine';

let engine: Promise<Engine> | null = null;

export function testEngine(): Promise<Engine> {
  engine ??= Engine.create();
  return engine;
}
