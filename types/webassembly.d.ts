// The part of the WebAssembly JavaScript API that gpu-container/src/images/bilinear.ts uses: Node has it
// globally, but @types/node 20 does not declare it and the DOM lib would bring the browser's globals.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: Record<string, unknown>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
}
