// Errors raised while reading or writing weight files. Every message names the file
// (and the tensor, when there is one) and says what was expected, so a user who drops
// the wrong file sees at once which one and why.

/** A weight file is malformed, truncated, or in a format/version Plantune cannot read. */
export class WeightFileError extends Error {
  constructor(
    /** The file the problem is in, as the user knows it (file name or URL path). */
    readonly fileName: string,
    message: string,
    /** The tensor the problem is in, when there is one. */
    readonly tensorName?: string,
  ) {
    super(`${fileName}: ${message}`);
    this.name = new.target.name;
  }
}

/** Name of a Blob for error messages: a `File`'s own name, else the fallback. */
export function blobName(blob: Blob, fallback: string): string {
  const name = (blob as Partial<File>).name;
  return typeof name === 'string' && name.length > 0 ? name : fallback;
}
