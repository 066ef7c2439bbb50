// The order in which a run visits its N training examples: epoch after epoch, each a fresh
// permutation drawn from one seeded RNG. Batches run across epoch ends, so every batch is full
// (a batch larger than N spans several epochs and repeats indices). The whole position fits in a
// small JSON object, so a run resumed from a checkpoint draws exactly the batches an uninterrupted
// run would.

import { Rng, shuffle } from './rng';

export interface DataOrderState {
  /** Number of examples. */
  n: number;
  /** The seed the run started from (for the record; the RNG state below is what matters). */
  seed: number;
  /** 0-based epoch the next index comes from. */
  epoch: number;
  /** Indices of this epoch's permutation already drawn, in [0, n). */
  position: number;
  /** RNG state just before this epoch's permutation was drawn. */
  epochRng: number[];
  /** Indices put back (see `putBack`), returned first by the next `next`. */
  pending: number[];
}

export class DataOrder {
  readonly n: number;
  readonly seed: number;
  private epochNumber = 0;
  private pos = 0;
  private epochRng: number[];
  private perm: number[];
  private pending: number[] = [];
  private rng: Rng;

  /** The order of `n` examples fixed by `seed` (a u32). */
  constructor(n: number, seed: number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`DataOrder needs at least one example, got n = ${n}`);
    this.n = n;
    this.seed = seed;
    this.rng = Rng.seeded(seed);
    this.epochRng = this.rng.state();
    this.perm = this.drawPermutation();
  }

  /** 0-based epoch the next index comes from. */
  get epoch(): number {
    return this.epochNumber;
  }

  /** How many indices of the current epoch have been drawn, in [0, n). */
  get position(): number {
    return this.pos;
  }

  /** The next `batchSize` example indices: put-back indices first, then the permutation, across epoch ends. */
  next(batchSize: number): number[] {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
    const out = this.pending.splice(0, batchSize);
    while (out.length < batchSize) {
      const take = Math.min(batchSize - out.length, this.n - this.pos);
      out.push(...this.perm.slice(this.pos, this.pos + take));
      this.pos += take;
      if (this.pos === this.n) this.startEpoch(this.epochNumber + 1);
    }
    return out;
  }

  /**
   * Hands back indices drawn but not used (examples that did not fit a packed batch); the next `next`
   * returns them first, in this order. They are part of the saved state.
   */
  putBack(indices: readonly number[]): void {
    for (const i of indices) if (!Number.isInteger(i) || i < 0 || i >= this.n) throw new RangeError(`putBack: index ${i} is outside [0, ${this.n})`);
    this.pending.unshift(...indices);
  }

  toJSON(): DataOrderState {
    return { n: this.n, seed: this.seed, epoch: this.epochNumber, position: this.pos, epochRng: [...this.epochRng], pending: [...this.pending] };
  }

  /**
   * The order saved by `toJSON`, continuing where it stopped. `expectedN`, when given, is the size of
   * the data set the run resumes on: a different size means a different data set, and is an error.
   */
  static fromJSON(state: DataOrderState, expectedN?: number): DataOrder {
    const { n, seed, epoch, position, epochRng, pending } = state;
    if (expectedN !== undefined && n !== expectedN) {
      throw new RangeError(`the saved data order covers ${n} examples, but the data set has ${expectedN}: resume on the data set the run started with`);
    }
    const order = new DataOrder(n, seed);
    if (!Number.isInteger(epoch) || epoch < 0) throw new RangeError(`saved data order: bad epoch ${epoch}`);
    if (!Number.isInteger(position) || position < 0 || position >= n) throw new RangeError(`saved data order: position ${position} is outside [0, ${n})`);
    order.rng = Rng.fromState(epochRng);
    order.epochRng = [...epochRng];
    order.perm = order.drawPermutation();
    order.epochNumber = epoch;
    order.pos = position;
    order.putBack(pending);
    return order;
  }

  private startEpoch(epoch: number): void {
    this.epochNumber = epoch;
    this.pos = 0;
    this.epochRng = this.rng.state();
    this.perm = this.drawPermutation();
  }

  private drawPermutation(): number[] {
    return shuffle(Array.from({ length: this.n }, (_, i) => i), this.rng);
  }
}
