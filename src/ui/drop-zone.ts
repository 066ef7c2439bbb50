// A drop zone that is also a button: click, Enter or Space opens the file picker; files dropped on
// it are chosen. Used by the Data and Teacher sections, and in parts by the Model section (which
// walks dropped folders). The page never reads the files: the worker does.
import { bytes, plural } from './dom';

/** "2 files chosen (1.2 MB): a.jsonl, b.jsonl" (files picked in a folder by their path in it), or "No files chosen." */
export function describeFiles(files: readonly File[]): string {
  const total = files.reduce((n, f) => n + f.size, 0);
  return files.length === 0 ? 'No files chosen.' : `${plural(files.length, 'file')} chosen (${bytes(total)}): ${files.map((f) => f.webkitRelativePath || f.name).join(', ')}`;
}

/** Makes `zone` act as a button: click, Enter or Space calls `open`. */
export function activateOn(zone: HTMLElement, open: () => void): void {
  zone.addEventListener('click', open);
  zone.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      open();
    }
  });
}

/** Drag feedback on `zone`; `onDrop` gets each drop's DataTransfer (within the drop event) unless `isDisabled()`. */
export function dropOn(zone: HTMLElement, isDisabled: () => boolean, onDrop: (dt: DataTransfer) => void): void {
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = isDisabled() ? 'none' : 'copy';
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragging');
    if (!isDisabled() && e.dataTransfer) onDrop(e.dataTransfer);
  });
}

/** Wires `zone` and its hidden `input`: `onFiles` gets the files picked or dropped, unless `isDisabled()`. */
export function initDropZone(zone: HTMLElement, input: HTMLInputElement, isDisabled: () => boolean, onFiles: (files: File[]) => void): void {
  activateOn(zone, () => {
    if (!isDisabled()) input.click();
  });
  dropOn(zone, isDisabled, (dt) => {
    if (dt.files.length > 0) onFiles([...dt.files]);
  });
  input.addEventListener('change', () => onFiles(input.files ? [...input.files] : []));
}
