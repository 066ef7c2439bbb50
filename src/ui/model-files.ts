// The files of a model drop: a dropped folder arrives as one directory entry (DataTransfer.files lists
// it as an empty file), so folders are walked through the File and Directory Entries API
// (webkitGetAsEntry). Hidden files and folders (.git, .cache) are skipped.

/** Folders below the dropped one that are still read (a dropped parent of the model folder works). */
const MAX_DEPTH = 3;
/** More files than this means the wrong folder was dropped. */
const MAX_MODEL_FILES = 400;

/**
 * What the drop holds, taken synchronously: the browser empties a DataTransfer once its drop event
 * returns, so call this inside the handler and read the entries afterwards with `readDropped`.
 */
export function takeDropped(dt: DataTransfer): (FileSystemEntry | File)[] {
  const items = [...dt.items].filter((i) => i.kind === 'file');
  if (items.length === 0) return [...dt.files];
  // A DataTransfer built by a script has files but no file-system entries.
  return items.flatMap((i) => i.webkitGetAsEntry() ?? i.getAsFile() ?? []);
}

const hidden = (name: string): boolean => name.startsWith('.');

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** Every entry of a directory: readEntries returns them in batches until an empty one. */
async function children(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

async function walk(entry: FileSystemEntry, depth: number, out: File[]): Promise<void> {
  if (hidden(entry.name)) return;
  if (out.length > MAX_MODEL_FILES) return;
  if (entry.isFile) out.push(await fileOf(entry as FileSystemFileEntry));
  else if (entry.isDirectory && depth <= MAX_DEPTH) {
    for (const child of await children(entry as FileSystemDirectoryEntry)) await walk(child, depth + 1, out);
  }
}

/** The files of `takeDropped`'s entries, folders walked; throws when a folder holds too many files. */
export async function readDropped(entries: (FileSystemEntry | File)[]): Promise<File[]> {
  const out: File[] = [];
  for (const e of entries) {
    if (e instanceof File) out.push(e);
    else await walk(e, 0, out);
  }
  if (out.length > MAX_MODEL_FILES) {
    throw new Error(`the drop holds more than ${MAX_MODEL_FILES} files: drop the model folder itself (config.json, *.safetensors, tokenizer.json) or a llama2.c .bin`);
  }
  return out;
}

/** Files of a picker, hidden ones (from a chosen folder) left out. */
export function pickedFiles(list: FileList | null): File[] {
  return [...(list ?? [])].filter((f) => !(f.webkitRelativePath || f.name).split('/').some(hidden));
}
