// Large files (weights, optimizer moments) are stored as fixed-size chunks, one row each,
// so that no single IndexedDB value is huge. A Blob is chunked by `slice`, which copies
// nothing; an ArrayBuffer or typed array is copied into per-chunk buffers (IndexedDB
// holds its own copy of every value until the write commits anyway). Reading joins the
// chunks back into one Blob, without copying them.

export type FileData = Blob | ArrayBuffer | ArrayBufferView;
export type ChunkData = Blob | ArrayBuffer;

/** Where a file lives: its name, size and number of chunk rows. */
export interface StoredFile {
  name: string;
  bytes: number;
  chunks: number;
}

export const DEFAULT_CHUNK_BYTES = 16 * 1024 * 1024;

export function byteLength(data: FileData): number {
  return data instanceof Blob ? data.size : data.byteLength;
}

export interface ChunkedFile {
  file: StoredFile;
  chunks: ChunkData[];
}

/** Splits named files into chunks of at most `chunkBytes` bytes. */
export function chunkFiles(files: Record<string, FileData>, chunkBytes: number): ChunkedFile[] {
  return Object.entries(files).map(([name, data]) => {
    const chunks = splitIntoChunks(data, chunkBytes);
    return { file: { name, bytes: byteLength(data), chunks: chunks.length }, chunks };
  });
}

function splitIntoChunks(data: FileData, chunkBytes: number): ChunkData[] {
  if (!Number.isInteger(chunkBytes) || chunkBytes <= 0) throw new RangeError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
  const total = byteLength(data);
  const chunks: ChunkData[] = [];
  for (let start = 0; start < total; start += chunkBytes) {
    const end = Math.min(start + chunkBytes, total);
    if (data instanceof Blob) chunks.push(data.slice(start, end));
    else if (data instanceof ArrayBuffer) chunks.push(data.slice(start, end));
    else chunks.push(new Uint8Array(data.buffer, data.byteOffset + start, end - start).slice().buffer);
  }
  return chunks;
}

/** Joins a file's chunk rows (in index order), checking that none is missing. */
export function joinChunks(file: StoredFile, chunks: ChunkData[]): Blob {
  const blob = new Blob(chunks);
  if (chunks.length !== file.chunks || blob.size !== file.bytes) {
    throw new Error(
      `Stored file "${file.name}" is incomplete: ${chunks.length}/${file.chunks} chunks, ` +
        `${blob.size}/${file.bytes} bytes. Delete it and import it again.`,
    );
  }
  return blob;
}

export function totalBytes(files: Record<string, FileData>): number {
  return Object.values(files).reduce((sum, data) => sum + byteLength(data), 0);
}
