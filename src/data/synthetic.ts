// A seeded synthetic planning task small enough for a ~1–5M-parameter byte-level model: multi-step
// arithmetic word problems in a tiny vocabulary, each with its plan (one sub-question and worked
// sub-answer per arithmetic step) and final answer; plus "7 + 5 = 12" arithmetic facts for pretraining.
// Every value (start, intermediate and final) stays within 0..maxValue (default 999, three digits).
//
//   Ann has 7 apples. She buys 5 more apples. Then she gives 3 apples to Ben. How many apples does Ann have now?
//   1. How many apples does Ann have after buying 5 more?      7 + 5 = 12
//   2. How many apples does Ann have after giving 3 to Ben?    12 - 3 = 9
//   #### 9

import { problemIdFor } from './problem-id';
import type { PlanStep, Trajectory } from './trajectory';

/** Uniform numbers in [0, 1) from a 32-bit seed: a Weyl sequence through a 32-bit avalanche mix. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  };
}

type Random = () => number;
const int = (rand: Random, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const pick = <T>(rand: Random, items: readonly T[]): T => items[Math.floor(rand() * items.length)];

interface Person {
  name: string;
  he: string;
  him: string;
}

const PEOPLE: readonly Person[] = [
  ['Ann', 'she'], ['Ben', 'he'], ['Cal', 'he'], ['Dee', 'she'], ['Eve', 'she'], ['Gus', 'he'],
  ['Ivy', 'she'], ['Max', 'he'], ['Mia', 'she'], ['Sam', 'he'], ['Tom', 'he'], ['Zoe', 'she'],
].map(([name, he]) => ({ name, he, him: he === 'she' ? 'her' : 'him' }));
const THINGS = ['apples', 'pens', 'books', 'cards', 'coins', 'shells', 'stickers', 'marbles', 'eggs', 'cookies'] as const;
const FOOD: ReadonlySet<string> = new Set(['apples', 'eggs', 'cookies']);

const capital = (s: string): string => s[0].toUpperCase() + s.slice(1);

export interface SyntheticOptions {
  seed: number;
  count: number;
  /** Fewest and most plan steps per problem (defaults 1 and 5). */
  minSteps?: number;
  maxSteps?: number;
  /** Largest value any step may reach (default 999). */
  maxValue?: number;
}

/** What one action adds to the story: a sentence and the plan steps it takes. */
interface Move {
  sentence: string;
  steps: PlanStep[];
  value: number;
  /** The closing question, when the move changes what is asked (sharing into groups). */
  question?: string;
}

interface Story {
  rand: Random;
  who: Person;
  friend: Person;
  things: string;
  maxValue: number;
}

/** Adds 2–20 (never 1: "1 more apples"); needs have <= maxValue - 2. */
function add(s: Story, have: number): Move {
  const n = int(s.rand, 2, Math.min(20, s.maxValue - have));
  const value = have + n;
  const step = (how: string): PlanStep => ({ subQuestion: `How many ${s.things} does ${s.who.name} have after ${how}?`, subAnswer: `${have} + ${n} = ${value}` });
  switch (int(s.rand, 0, 2)) {
    case 0:
      return { sentence: `${s.who.he} buys ${n} more ${s.things}.`, steps: [step(`buying ${n} more`)], value };
    case 1:
      return { sentence: `${s.who.he} finds ${n} more ${s.things}.`, steps: [step(`finding ${n} more`)], value };
    default:
      return { sentence: `${s.friend.name} gives ${s.who.him} ${n} ${s.things}.`, steps: [step(`${s.friend.name} gives ${s.who.him} ${n}`)], value };
  }
}

/** Takes away 2–20, leaving at least 1; needs have >= 3. */
function subtract(s: Story, have: number): Move {
  const n = int(s.rand, 2, Math.min(20, have - 1));
  const value = have - n;
  const step = (how: string): PlanStep => ({ subQuestion: `How many ${s.things} does ${s.who.name} have after ${how}?`, subAnswer: `${have} - ${n} = ${value}` });
  const eats = FOOD.has(s.things) && s.rand() < 0.5;
  if (eats) return { sentence: `${s.who.he} eats ${n} ${s.things}.`, steps: [step(`eating ${n}`)], value };
  if (s.rand() < 0.5) return { sentence: `${s.who.he} loses ${n} ${s.things}.`, steps: [step(`losing ${n}`)], value };
  return { sentence: `${s.who.he} gives ${n} ${s.things} to ${s.friend.name}.`, steps: [step(`giving ${n} to ${s.friend.name}`)], value };
}

/** Two steps: the bags' total, then the new count. Undefined when even the smallest bags would overflow. */
function bags(s: Story, have: number): Move | undefined {
  const k = int(s.rand, 2, 5);
  const room = Math.floor((s.maxValue - have) / k);
  if (room < 2) return undefined;
  const m = int(s.rand, 2, Math.min(10, room));
  const inBags = k * m;
  const value = have + inBags;
  return {
    sentence: `${s.who.he} buys ${k} bags with ${m} ${s.things} in each bag.`,
    steps: [
      { subQuestion: `How many ${s.things} are in the ${k} bags?`, subAnswer: `${k} * ${m} = ${inBags}` },
      { subQuestion: `How many ${s.things} does ${s.who.name} have after buying the bags?`, subAnswer: `${have} + ${inBags} = ${value}` },
    ],
    value,
  };
}

/** The last step only: equal groups, when `have` splits evenly into 2–6 groups. */
function share(s: Story, have: number): Move | undefined {
  const ways = [2, 3, 4, 5, 6].filter((k) => have % k === 0 && have / k >= 1);
  if (ways.length === 0) return undefined;
  const k = pick(s.rand, ways);
  const value = have / k;
  const question = `How many ${s.things} are in each group?`;
  return {
    sentence: `${s.who.he} puts all the ${s.things} into ${k} equal groups.`,
    steps: [{ subQuestion: question, subAnswer: `${have} / ${k} = ${value}` }],
    value,
    question,
  };
}

function problem(seed: number, index: number, minSteps: number, maxSteps: number, maxValue: number): Trajectory {
  const rand = seededRandom(seed ^ Math.imul(index + 1, 0x27d4eb2f));
  const who = pick(rand, PEOPLE);
  const story: Story = { rand, who, friend: pick(rand, PEOPLE.filter((p) => p !== who)), things: pick(rand, THINGS), maxValue };
  const steps = int(rand, minSteps, maxSteps);
  let have = int(rand, 2, Math.min(20, maxValue));
  const sentences = [`${who.name} has ${have} ${story.things}.`];
  const plan: PlanStep[] = [];
  let question = `How many ${story.things} does ${who.name} have now?`;
  while (plan.length < steps) {
    const left = steps - plan.length;
    const r = rand();
    let move: Move | undefined;
    if (left === 1 && plan.length > 0 && r < 0.3) move = share(story, have);
    else if (left >= 2 && r < 0.35) move = bags(story, have);
    if (!move) move = have >= 3 && (maxValue - have < 2 || r < 0.5) ? subtract(story, have) : add(story, have);
    sentences.push(sentences.length === 1 ? capital(move.sentence) : `Then ${move.sentence}`);
    plan.push(...move.steps);
    have = move.value;
    if (move.question) question = move.question;
  }
  const text = `${sentences.join(' ')} ${question}`;
  return {
    id: `synthetic-${seed}-${index}`,
    problemId: problemIdFor(text),
    question: text,
    plan,
    solution: [...plan.map((s) => s.subAnswer), `#### ${have}`].join('\n'),
    finalAnswer: { text: String(have), value: have },
    source: 'plantune',
    meta: { steps: plan.length, generator: 'synthetic', seed, index },
  };
}

/** `count` problems; problem i depends only on (seed, i, options), so a longer run extends a shorter one. */
export function syntheticProblems(options: SyntheticOptions): Trajectory[] {
  const { seed, count, minSteps = 1, maxSteps = 5, maxValue = 999 } = options;
  if (!(minSteps >= 1 && maxSteps >= minSteps)) throw new RangeError(`need 1 <= minSteps <= maxSteps, got ${minSteps}..${maxSteps}`);
  if (!(maxValue >= 20)) throw new RangeError(`maxValue must be at least 20, got ${maxValue}`);
  return Array.from({ length: count }, (_, i) => problem(seed, i, minSteps, maxSteps, maxValue));
}

/** `count` one-operation facts ("7 + 5 = 12", "12 / 4 = 3"), operands up to `maxOperand` (default 20). */
export function arithmeticFacts(options: { seed: number; count: number; maxOperand?: number }): string[] {
  const { seed, count, maxOperand = 20 } = options;
  const rand = seededRandom(seed);
  const small = Math.min(maxOperand, 12);
  return Array.from({ length: count }, () => {
    switch (int(rand, 0, 3)) {
      case 0: {
        const a = int(rand, 0, maxOperand);
        const b = int(rand, 0, maxOperand);
        return `${a} + ${b} = ${a + b}`;
      }
      case 1: {
        const a = int(rand, 0, maxOperand);
        const b = int(rand, 0, a);
        return `${a} - ${b} = ${a - b}`;
      }
      case 2: {
        const a = int(rand, 0, small);
        const b = int(rand, 0, small);
        return `${a} * ${b} = ${a * b}`;
      }
      default: {
        const b = int(rand, 1, small);
        const q = int(rand, 0, small);
        return `${b * q} / ${b} = ${q}`;
      }
    }
  });
}
