// Type stub for the side-effect import of @tensorflow/tfjs-backend-webgpu (see ./tfjs.d.ts).
export {};
