// A drop zone that is also a button: click, Enter or Space opens the file picker; files dropped on
// it are chosen. Used by the Data and Teacher sections. The page never reads the files: the worker does.
import { bytes, plural } from './dom';

/** "2 files chosen (1.2 MB): a.jsonl, b.jsonl", or "No files chosen." */
export function describeFiles(files: readonly File[]): string {
  const total = files.reduce((n, f) => n + f.size, 0);
  return files.length === 0 ? 'No files chosen.' : `${plural(files.length, 'file')} chosen (${bytes(total)}): ${files.map((f) => f.name).join(', ')}`;
}

/** Wires `zone` and its hidden `input`: `onFiles` gets the files picked or dropped, unless `isDisabled()`. */
export function initDropZone(zone: HTMLElement, input: HTMLInputElement, isDisabled: () => boolean, onFiles: (files: File[]) => void): void {
  const openPicker = (): void => {
    if (!isDisabled()) input.click();
  };
  zone.addEventListener('click', openPicker);
  zone.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      openPicker();
    }
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = isDisabled() ? 'none' : 'copy';
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragging');
    if (!isDisabled() && e.dataTransfer && e.dataTransfer.files.length > 0) onFiles([...e.dataTransfer.files]);
  });
  input.addEventListener('change', () => onFiles(input.files ? [...input.files] : []));
}
