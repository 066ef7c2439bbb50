// Sharded checkpoints: an index over 3 shards, one view of all tensors, each shard
// opened once, and the errors for a missing shard or a listed-but-absent tensor.
import { describe, expect, it } from 'vitest';
import { openSharded, openWeights, parseShardIndex } from '../../src/io/sharded';
import { writeSafetensors } from '../../src/io/safetensors';
import { WeightFileError } from '../../src/io/errors';

const shardName = (i: number) => `model-0000${i}-of-00003.safetensors`;

/** 3 shards; tensor t{k} holds [k, k+0.5] and lives in shard k % 3 + 1. */
function makeCheckpoint(nTensors = 7) {
  const names = Array.from({ length: nTensors }, (_, k) => `model.layers.${k}.w`);
  const weightMap: Record<string, string> = {};
  const perShard: { name: string; shape: number[]; dtype: 'F32' | 'BF16'; data: Float32Array }[][] = [[], [], []];
  names.forEach((name, k) => {
    weightMap[name] = shardName((k % 3) + 1);
    perShard[k % 3].push({ name, shape: [2], dtype: k % 2 ? 'BF16' : 'F32', data: new Float32Array([k, k + 0.5]) });
  });
  const shards = perShard.map((ts) => writeSafetensors(ts, { format: 'pt' }));
  const index = { metadata: { total_size: nTensors * 8 }, weight_map: weightMap };
  return { names, index, shards, weightMap };
}

describe('sharded checkpoint', () => {
  it('gives one lazy view over 3 shards', async () => {
    const { names, index, shards } = makeCheckpoint();
    const files = new Map(shards.map((b, i) => [shardName(i + 1), b]));
    const ck = await openSharded(JSON.stringify(index), files);
    expect(ck.shards.size).toBe(3);
    expect([...ck.names].sort()).toEqual([...names].sort());
    expect(ck.unlisted).toEqual([]);
    expect(ck.metadata).toEqual({ format: 'pt' });
    for (const [k, name] of names.entries()) {
      expect(ck.has(name)).toBe(true);
      expect(ck.shardOf(name)).toBe(shardName((k % 3) + 1));
      const t = ck.get(name);
      expect(t.fileName).toBe(shardName((k % 3) + 1));
      expect(t.dtype).toBe(k % 2 ? 'BF16' : 'F32');
      expect([...(await t.float32())]).toEqual([k, k + 0.5]);
    }
    expect(ck.has('nope')).toBe(false);
    expect(() => ck.get('nope')).toThrow(/model\.safetensors\.index\.json: has no tensor "nope" in its weight_map/);
  });

  it('opens each shard once (one header read per shard)', async () => {
    const { index, shards } = makeCheckpoint();
    const headerReads = new Map<string, number>();
    const files: Record<string, Blob> = {};
    shards.forEach((b, i) => {
      const name = shardName(i + 1);
      files[name] = {
        size: b.size,
        slice: (s?: number, e?: number) => {
          if (s === 0 && e === 8) headerReads.set(name, (headerReads.get(name) ?? 0) + 1);
          return b.slice(s, e);
        },
      } as unknown as Blob;
    });
    const ck = await openSharded(index, files);
    for (const n of ck.names) await ck.get(n).float32();
    expect([...headerReads.values()]).toEqual([1, 1, 1]);
  });

  it('takes dropped Files with folder paths and the index as a Blob, via openWeights', async () => {
    const { index, shards, names } = makeCheckpoint(5);
    const files = new Map<string, Blob>(shards.map((b, i) => [`my-model/${shardName(i + 1)}`, b]));
    files.set('my-model/model.safetensors.index.json', new Blob([JSON.stringify(index)]));
    files.set('my-model/config.json', new Blob(['{}']));
    const w = await openWeights(files);
    expect(w.names.length).toBe(names.length);
    expect([...(await w.get(names[4]).float32())]).toEqual([4, 4.5]);

    const list = shards.map((b, i) => new File([b], shardName(i + 1)));
    const ck = await openSharded(new File([JSON.stringify(index)], 'model.safetensors.index.json'), list);
    expect([...(await ck.get(names[2]).float32())]).toEqual([2, 2.5]);
  });

  it('reports tensors a shard has but the index does not list', async () => {
    const { index, shards } = makeCheckpoint(3);
    const extra = writeSafetensors([
      { name: 'model.layers.0.w', shape: [2], dtype: 'F32', data: new Float32Array([0, 0.5]) },
      { name: 'stray', shape: [1], dtype: 'F32', data: new Float32Array([1]) },
    ]);
    const ck = await openSharded(index, { [shardName(1)]: extra, [shardName(2)]: shards[1], [shardName(3)]: shards[2] });
    expect(ck.unlisted).toEqual(['stray']);
    expect(ck.has('stray')).toBe(false);
  });

  it('missing shard file: names the shard, a tensor in it, and the files given', async () => {
    const { index, shards } = makeCheckpoint();
    const files = { [shardName(1)]: shards[0], [shardName(3)]: shards[2] };
    const p = openSharded(index, files);
    await expect(p).rejects.toBeInstanceOf(WeightFileError);
    await expect(openSharded(index, files)).rejects.toThrow(
      /^model\.safetensors\.index\.json: lists shard file\(s\) "model-00002-of-00003\.safetensors" \(\d+ tensors, e\.g\. "model\.layers\.1\.w"\) that were not given\. Files given: .*model-00001/,
    );
  });

  it('tensor listed in the index but absent from its shard', async () => {
    const { index, shards } = makeCheckpoint();
    const idx = { ...index, weight_map: { ...index.weight_map, 'lm_head.weight': shardName(2) } };
    const files = new Map(shards.map((b, i) => [shardName(i + 1), b]));
    await expect(openSharded(idx, files)).rejects.toThrow(
      /^model-00002-of-00003\.safetensors: model\.safetensors\.index\.json lists tensor\(s\) "lm_head\.weight" in this shard, but the file does not contain them/,
    );
  });

  it('validates the index file', () => {
    expect(() => parseShardIndex('{', 'idx.json')).toThrow(/^idx\.json: not valid JSON/);
    expect(() => parseShardIndex('{"metadata": {}}')).toThrow(/no "weight_map" object/);
    expect(() => parseShardIndex('{"weight_map": {}}')).toThrow(/"weight_map" is empty/);
    expect(() => parseShardIndex('{"weight_map": {"a": 3}}')).toThrow(/entry "a" is not a file name/);
    expect(parseShardIndex('{"weight_map": {"a": "s.safetensors"}}')).toEqual({ metadata: {}, weight_map: { a: 's.safetensors' } });
  });
});

describe('openWeights', () => {
  it('prefers model.safetensors', async () => {
    const single = writeSafetensors([{ name: 'x', shape: [1], dtype: 'F32', data: new Float32Array([3]) }]);
    const w = await openWeights([new File([single], 'model.safetensors'), new File(['{}'], 'config.json')]);
    expect([...(await w.get('x').float32())]).toEqual([3]);
  });

  it('says what is missing when there are no safetensors weights', async () => {
    await expect(openWeights({ 'config.json': new Blob(['{}']), 'pytorch_model.bin': new Blob(['x']) })).rejects.toThrow(
      /no weights found: expected "model\.safetensors" or "model\.safetensors\.index\.json".*pytorch_model\.bin.*PyTorch pickles/,
    );
  });

  it('refuses two model folders whose shard names collide', async () => {
    const { index, shards } = makeCheckpoint(3);
    const files = new Map<string, Blob>([
      ['a/model.safetensors.index.json', new Blob([JSON.stringify(index)])],
      ...shards.map((b, i) => [`a/${shardName(i + 1)}`, b] as [string, Blob]),
      ...shards.map((b, i) => [`b/${shardName(i + 1)}`, b] as [string, Blob]),
    ]);
    await expect(openWeights(files)).rejects.toThrow(/several files are named "model-00001-of-00003\.safetensors"/);
  });
});
