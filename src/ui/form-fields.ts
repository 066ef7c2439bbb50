// Labelled form fields with their help line and an inline error line, wired for assistive technology
// (aria-describedby, aria-invalid). The error line keeps its height, so a message does not move the form.
import { el } from './dom';
import type { NumberSpec } from './run-fields';

export interface Field<T extends HTMLElement> {
  wrap: HTMLElement;
  input: T;
  /** Shows `message` under the field and marks it invalid, or clears both (null). */
  setError(message: string | null): void;
}

function field<T extends HTMLElement>(id: string, label: string, help: string, input: T): Field<T> {
  const helpLine = el('small', { id: `${id}-help` }, help);
  const error = el('small', { id: `${id}-error`, class: 'field-error' });
  input.id = id;
  input.setAttribute('aria-describedby', `${id}-help ${id}-error`);
  return {
    wrap: el('div', { class: 'field', 'data-field': id }, el('label', { for: id }, label), input, helpLine, error),
    input,
    setError(message) {
      error.textContent = message ?? '';
      if (message) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    },
  };
}

export function numberField(spec: NumberSpec): Field<HTMLInputElement> {
  const input = el('input', {
    type: 'number', min: spec.min, max: spec.max, step: spec.integer ? 1 : 'any', value: spec.value, inputmode: spec.integer ? 'numeric' : 'decimal', autocomplete: 'off',
  });
  return field(`run-${spec.key}`, spec.label, spec.help, input);
}

export function selectField(id: string, label: string, help: string, options: [value: string, text: string][]): Field<HTMLSelectElement> {
  return field(id, label, help, el('select', {}, ...options.map(([value, text]) => el('option', { value }, text))));
}

export function textField(id: string, label: string, help: string, placeholder: string): Field<HTMLInputElement> {
  return field(id, label, help, el('input', { type: 'text', autocomplete: 'off', placeholder }));
}

/** A group of checkboxes (one per value, all checked at first) with one error line. */
export function checkboxGroup(id: string, legend: string, help: string): Field<HTMLFieldSetElement> & { set(values: string[]): void; checked(): string[] } {
  const boxes = el('div', { class: 'checks' });
  const set = el('fieldset', { class: 'check-group' }, el('legend', {}, legend), boxes);
  const f = field(id, '', help, set);
  f.wrap.querySelector('label')?.remove(); // the legend names the group
  return {
    ...f,
    set(values) {
      boxes.replaceChildren(
        ...values.map((v) => el('label', { class: 'check' }, el('input', { type: 'checkbox', value: v, checked: true, name: id }), ` ${v}`)),
      );
    },
    checked: () => [...boxes.querySelectorAll<HTMLInputElement>('input:checked')].map((b) => b.value),
  };
}
