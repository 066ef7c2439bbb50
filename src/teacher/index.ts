// Teacher distillation: turn plain questions into planning trajectories with a stronger model.
// Runs in a Web Worker and in Node (fetch, AbortController, IndexedDB or files); see docs/teacher.md.

export * from './types';
export * from './errors';
export { HttpTeacher, type HttpTeacherConfig, type TeacherLogEvent } from './http-teacher';
export { FunctionTeacher, type GenerateFn, type Generation, type GenerateOptions, type FunctionTeacherOptions } from './function-teacher';
export { sampleN, sampleByRepeat } from './sampling';
export * from './prompts';
export * from './parse';
export * from './questions';
export * from './methods';
export * from './store';
export * from './job';
export { DexieJobStore, TeacherDatabase, TEACHER_DB_NAME } from './dexie-store';
