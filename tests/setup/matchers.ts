import { expect } from 'vitest';
import { type CloseOptions, compareClose } from '../helpers/allclose';

expect.extend({
  toAllClose(received: ArrayLike<number>, expected: ArrayLike<number>, opts?: CloseOptions) {
    const r = compareClose(received, expected, opts);
    return { pass: r.pass, message: () => (r.pass ? `expected not all close, but ${r.message}` : `not all close: ${r.message}`) };
  },
});

declare module 'vitest' {
  interface Matchers<T = any> { // eslint-disable-line @typescript-eslint/no-explicit-any -- must match vitest's declaration
    /** ‖out−ref‖/‖ref‖ <= tol (default 1e-5); reports max abs/rel error and the first mismatches. */
    toAllClose(expected: ArrayLike<number>, opts?: CloseOptions): T;
  }
}
