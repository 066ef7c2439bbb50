// The question files of the Teacher section: a drop zone that is also a button (click, Enter or
// Space opens the picker), as in the Data section. The page never reads the files: the worker does.
import { bytes, plural } from './dom';

export interface QuestionFiles {
  files(): File[];
  setDisabled(disabled: boolean): void;
}

export function initQuestionFiles(zone: HTMLElement, input: HTMLInputElement, selection: HTMLElement): QuestionFiles {
  let chosen: File[] = [];
  let disabled = false;

  const choose = (files: FileList | File[] | null): void => {
    chosen = files ? [...files] : [];
    const total = chosen.reduce((n, f) => n + f.size, 0);
    selection.textContent = chosen.length === 0 ? 'No files chosen.' : `${plural(chosen.length, 'file')} chosen (${bytes(total)}): ${chosen.map((f) => f.name).join(', ')}`;
  };
  const openPicker = (): void => {
    if (!disabled) input.click();
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
    if (e.dataTransfer) e.dataTransfer.dropEffect = disabled ? 'none' : 'copy';
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragging');
    if (!disabled && e.dataTransfer && e.dataTransfer.files.length > 0) choose(e.dataTransfer.files);
  });
  input.addEventListener('change', () => choose(input.files));

  return {
    files: () => chosen,
    setDisabled(value) {
      disabled = value;
      zone.setAttribute('aria-disabled', String(value));
    },
  };
}
