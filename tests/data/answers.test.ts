import { describe, expect, it } from 'vitest';
import { answersMatch, boxedContents, extractFinalAnswer, formatNumber, parseNumber } from '../../src/data/answers';

describe('parseNumber', () => {
  it.each([
    ['72', 72],
    ['1,080', 1080],
    ['109,200,000', 109200000],
    ['$1,080', 1080],
    ['$18.00', 18],
    ['-5', -5],
    ['\u22125', -5],
    ['-$5', -5],
    ['$-5', -5],
    ['+7', 7],
    ['3.75', 3.75],
    ['.5', 0.5],
    ['20%', 20],
    ['20\\%', 20],
    ['18 dollars', 18],
    ['100cm', 100],
    ['7 guests.', 7],
    ['Janet makes $18', 18],
    ['3/4', 0.75],
    ['-3/4', -0.75],
    ['1 1/2', 1.5],
    ['\\frac{3}{4}', 0.75],
    ['\\dfrac{14}{3}', 14 / 3],
    ['-\\frac{1}{2}', -0.5],
    ['\\$18', 18],
    ['$18$', 18],
    ['\\text{18 apples}', 18],
    ['90^\\circ', 90],
    ['50+48=98', 98],
    ['(total land-land sold) = 12.8', 12.8],
    ['x+8', undefined],
    ['x - 10', undefined],
    ['8x', undefined],
    ['3 onions and 1 potato.', undefined],
    ['220, 90, 60', undefined],
    ['1,2', undefined],
    ['2:00 pm', undefined],
    ['1.8181818... (rounded to 1.82)', undefined],
    ['Electronic gadgets', undefined],
    ['1/0', undefined],
    ['', undefined],
  ] as const)('%j -> %j', (text, expected) => {
    if (expected === undefined) expect(parseNumber(text)).toBeUndefined();
    else expect(parseNumber(text)).toBeCloseTo(expected, 12);
  });
});

describe('extractFinalAnswer', () => {
  it.each([
    ['Natalia sold 48/2 = <<48/2=24>>24 clips.\n#### 72', '72', 72, 'hash'],
    ['work\n#### 1,080', '1,080', 1080, 'hash'],
    ['#### 5\nmore text\n#### 6', '6', 6, 'hash'],
    ['so the answer is $\\boxed{\\frac{14}{3}}$.', '\\frac{14}{3}', 14 / 3, 'boxed'],
    ['\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}', '\\left( 3, \\frac{\\pi}{2} \\right)', undefined, 'boxed'],
    ['first \\boxed{1} then \\boxed{2}', '2', 2, 'boxed'],
    ['A1: 16-3-4=9\nA2: 9*2=18\n\nFinal answer: 18', '18', 18, 'final-answer'],
    ['The final answer is 42.', '42', 42, 'final-answer'],
    ['So the answer is: $1,250.', '$1,250', 1250, 'answer-is'],
    ['The answer is **7**', '7', 7, 'answer-is'],
    ['She has 3 apples and buys 4, giving 7 apples', '7', 7, 'last-number'],
    ['The loss was 10-3 dollars', '3', 3, 'last-number'],
    ['it drops to -4 degrees', '-4', -4, 'last-number'],
  ] as const)('%j', (text, answer, value, method) => {
    const got = extractFinalAnswer(text);
    expect(got).toMatchObject({ text: answer, method, fallback: method === 'last-number' });
    if (value === undefined) expect(got?.value).toBeUndefined();
    else expect(got?.value).toBeCloseTo(value, 12);
  });

  it('finds nothing in text without a number, and no fallback when disabled', () => {
    expect(extractFinalAnswer('no idea')).toBeUndefined();
    expect(extractFinalAnswer('she has 7 apples', { allowFallback: false })).toBeUndefined();
    expect(extractFinalAnswer('####\n')).toBeUndefined();
  });

  it('reads nested braces in \\boxed{}', () => {
    expect(boxedContents('\\boxed{a{b{c}}d} and \\boxed{e} and \\boxed{unclosed')).toEqual(['a{b{c}}d', 'e']);
  });
});

describe('answersMatch', () => {
  it.each([
    ['18', 18, true],
    ['1,080', '$1080', true],
    [{ text: '2,125', value: 2125 }, 2125, true],
    ['3/4', 0.75, true],
    ['\\frac{1}{3}', 0.3333333333, true],
    [100, 100.00001, true],
    [100, 100.001, false],
    ['18', '19', false],
    ['0', 0, true],
    ['0', 1e-12, false],
    ['Evelyn', '\\text{Evelyn}', true],
    ['p - q', 'p-q', true],
    ['Evelyn', 'Briana', false],
    ['Evelyn', 18, false],
    ['', '', false],
  ] as const)('%j vs %j -> %s', (a, b, same) => {
    expect(answersMatch(a, b)).toBe(same);
    expect(answersMatch(b, a)).toBe(same);
  });

  it('honours the tolerance and treats a missing answer as no match', () => {
    expect(answersMatch(100, 101, 0.02)).toBe(true);
    expect(answersMatch(undefined, 5)).toBe(false);
  });
});

describe('formatNumber', () => {
  it.each([
    [18, '18'],
    [18.0, '18'],
    [0.5, '0.5'],
    [-10, '-10'],
  ])('%d -> %s', (n, s) => expect(formatNumber(n)).toBe(s));
});
