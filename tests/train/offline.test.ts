// Offline RL selection on the real GSM8K-AI-SubQ scored dataset: filtered BC keeps only the rows
// whose answer was correct; weighted BC keeps every scored row with its correctness as weight.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { byteLevelTokenizerJson } from '../../src/data/tokenizer/byte-level';
import { loadTokenizer } from '../../src/data/tokenizer/load';
import { importFile } from '../../src/data/validate';
import { tokenizeExamples } from '../../src/train/batches';
import { offlineSelection } from '../../src/train/offline';

const file = new URL('../../../shared/data/gsm8k-ai-subq/qg_test_dataset.jsonl', import.meta.url);

describe('offline RL selection', async () => {
  const { trajectories } = await importFile(new Blob([readFileSync(file)]), { file: 'qg_test_dataset.jsonl' });
  const tokenizer = await loadTokenizer(byteLevelTokenizerJson());
  const { examples } = tokenizeExamples(trajectories, tokenizer, { style: 'subq-only', maxLength: 4096 });
  const correct = new Set(trajectories.filter((t) => t.rewards?.answerCorrectness === 1).map((t) => t.id));

  it('filtered BC trains only on rows with answer correctness 1', () => {
    const sel = offlineSelection(examples, trajectories, 'filtered');
    console.log(`filtered BC: ${sel.examples.length} of ${sel.scored} scored rows are correct`);
    expect(sel.examples.length).toBeGreaterThan(0);
    expect(sel.examples.length).toBeLessThan(sel.scored); // the set has incorrect rows to drop
    expect(sel.examples.every((x) => correct.has(x.id))).toBe(true);
    expect(sel.examples.length).toBe(examples.filter((x) => correct.has(x.id)).length);
    expect(sel.weights).toBeUndefined();
  });

  it('reward-weighted BC keeps every scored row with its correctness as the weight', () => {
    const sel = offlineSelection(examples, trajectories, 'weighted');
    expect(sel.examples.length).toBe(sel.scored);
    sel.examples.forEach((x, i) => expect(sel.weights![i]).toBe(correct.has(x.id) ? 1 : 0));
  });

  it('refuses unscored data with what to use instead', () => {
    const unscored = trajectories.map((t) => ({ ...t, rewards: undefined }));
    expect(() => offlineSelection(examples, unscored, 'filtered')).toThrow('offline RL needs scored trajectories');
  });
});
