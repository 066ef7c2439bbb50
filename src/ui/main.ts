// The page: talks to the trainer worker only; never touches WebGPU itself.
import * as Comlink from 'comlink';
import type { TrainerApi } from '../worker/api';
import { initDataPanel } from './data-panel';
import { initExportPanel } from './export-panel';
import { initModelPanel } from './model-panel';
import { initRunPanel } from './run-panel';
import { initTeacherPanel } from './teacher-panel';
import { initWatchPanel } from './watch-panel';

const worker = new Worker(new URL('../worker/trainer.worker.ts', import.meta.url), { type: 'module', name: 'plantune-trainer' });
const trainer = Comlink.wrap<TrainerApi>(worker);

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

async function showGpu(): Promise<void> {
  const status = document.getElementById('gpu-status')!;
  const details = document.getElementById('gpu-details')!;
  const gpu = await trainer.describeGpu();
  if (!gpu.ok) {
    status.textContent = gpu.message;
    status.classList.add('error');
    return;
  }
  status.textContent = `WebGPU adapter: ${gpu.adapter}${gpu.isSoftware ? ' (software: expect CPU speed)' : ''}`;
  const rows: [string, string][] = [
    ['Features', gpu.features.join(', ') || 'none'],
    ['Max buffer', mib(gpu.limits.maxBufferSize)],
    ['Max storage binding', mib(gpu.limits.maxStorageBufferBindingSize)],
    ['Max invocations / workgroup', String(gpu.limits.maxComputeInvocationsPerWorkgroup)],
  ];
  details.replaceChildren(...rows.flatMap(([k, v]) => [Object.assign(document.createElement('dt'), { textContent: k }), Object.assign(document.createElement('dd'), { textContent: v })]));
  details.hidden = false;
}

void showGpu();
const model = initModelPanel(trainer);
initDataPanel(trainer);
initTeacherPanel(trainer);
const exporter = initExportPanel(trainer);
const watch = initWatchPanel(trainer, { onRunUpdate: (run) => exporter.show(run) });
initRunPanel(trainer, model, {
  onSelect: (run) => {
    void watch.show(run);
    exporter.show(run);
  },
  onEvent: (ev, runId) => watch.onEvent(ev, runId),
});
