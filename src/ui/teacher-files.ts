// The question files of the Teacher section: a drop zone as in the Data section (drop-zone.ts).
import { describeFiles, initDropZone } from './drop-zone';

export interface QuestionFiles {
  files(): File[];
  setDisabled(disabled: boolean): void;
}

export function initQuestionFiles(zone: HTMLElement, input: HTMLInputElement, selection: HTMLElement): QuestionFiles {
  let chosen: File[] = [];
  let disabled = false;

  initDropZone(zone, input, () => disabled, (files) => {
    chosen = files;
    selection.textContent = describeFiles(chosen);
  });

  return {
    files: () => chosen,
    setDisabled(value) {
      disabled = value;
      zone.setAttribute('aria-disabled', String(value));
    },
  };
}
